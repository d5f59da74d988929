import { Inject, Injectable, Optional } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { ApiError } from '@mintline/common/errors/api-error';
import { CircuitBreaker, CircuitBreakerOptions } from '../http/circuit-breaker';
import { describeFailure, requestProvider } from '../http/provider-failure';
import { ProviderHttpClient, ProviderHttpResponse } from '../http/provider-http.client';
import { originOf } from '../http/origin-of';

export const TELNYX_API_OPTIONS = Symbol('TELNYX_API_OPTIONS');

/** Where the Telnyx API is when an org names no `baseUrl`. */
export const TELNYX_DEFAULT_BASE_URL = 'https://api.telnyx.com';

export interface TelnyxCredentials {
  /** A Telnyx API key (Bearer); secret. */
  apiKey: string;
  /** The credential connection the telephony credentials are made on. */
  connectionId: string;
  /** Tenant-supplied, so every request to it passes the outbound address guard. */
  baseUrl?: string;
}

export interface TelnyxApiOptions {
  /** Per-request budget. Default: the HTTP client's (5000 ms). */
  timeoutMs?: number;
  breaker?: CircuitBreakerOptions;
}

export interface TelephonyCredential {
  id: string;
  sipUsername: string;
}

/** A token, or the credential is gone upstream (404): the caller may make a new one. */
export type TelnyxTokenAnswer = { token: string } | { gone: true };

const PROVIDER = 'Telnyx';
/** Telnyx's tag for the credentials Mintline makes, so an org can find (and clean up) them in its account. */
export const TELNYX_CREDENTIAL_TAG = 'mintline';
/** A compact JWS, as Telnyx answers it: three base64url parts. */
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The three Telnyx API calls Mintline makes, through the guarded HTTP client with one circuit breaker
 * per API origin: create a telephony credential (`POST /v2/telephony_credentials`), mint its login
 * token (`POST /v2/telephony_credentials/{id}/token`, the JWT as text/plain) and, to check an API key,
 * read the balance (`GET /v2/balance`). Answers as for SignalWire: 401/403 PROVIDER_AUTH_FAILED; 5xx,
 * 429, reset or timeout PROVIDER_UNAVAILABLE; anything else PROVIDER_ERROR with the status only, never
 * Telnyx's body.
 */
@Injectable()
export class TelnyxApiClient {
  private readonly timeoutMs: number;
  private readonly breaker: CircuitBreaker;

  constructor(
    clock: Clock,
    private readonly http: ProviderHttpClient,
    @Optional() @Inject(TELNYX_API_OPTIONS) options?: TelnyxApiOptions,
  ) {
    this.timeoutMs = options?.timeoutMs ?? http.timeoutMs;
    this.breaker = new CircuitBreaker(clock, PROVIDER, options?.breaker);
  }

  async createCredential(credentials: TelnyxCredentials, name: string): Promise<TelephonyCredential> {
    const response = await this.call(credentials, 'POST', '/v2/telephony_credentials', {
      json: { connection_id: credentials.connectionId, name, tag: TELNYX_CREDENTIAL_TAG },
    });
    refuseAuth(response, 'API key');
    if (response.status !== 200 && response.status !== 201) {
      // 422 is what Telnyx answers for a connection_id it does not know (or not of this account).
      throw ApiError.provider('PROVIDER_ERROR', `${PROVIDER} refused to create a telephony credential (HTTP ${response.status}); check connectionId`);
    }
    const data = (response.json as { data?: { id?: unknown; sip_username?: unknown } } | undefined)?.data;
    if (typeof data?.id !== 'string' || data.id === '' || typeof data.sip_username !== 'string' || data.sip_username === '') {
      throw ApiError.provider('PROVIDER_ERROR', `${PROVIDER} answered HTTP ${response.status} without a telephony credential`);
    }
    return { id: data.id, sipUsername: data.sip_username };
  }

  async createToken(credentials: TelnyxCredentials, credentialId: string): Promise<TelnyxTokenAnswer> {
    const response = await this.call(credentials, 'POST', `/v2/telephony_credentials/${encodeURIComponent(credentialId)}/token`, {
      headers: { accept: 'text/plain' },
    });
    refuseAuth(response, 'API key');
    if (response.status === 404) return { gone: true };
    if (response.status !== 200 && response.status !== 201) {
      throw ApiError.provider('PROVIDER_ERROR', `${PROVIDER} refused the token request (HTTP ${response.status})`);
    }
    // Documented as text/plain; tolerate a JSON string too (the SDKs print it quoted).
    const token = typeof response.json === 'string' ? response.json : response.text.trim();
    if (!JWT.test(token)) throw ApiError.provider('PROVIDER_ERROR', `${PROVIDER} answered HTTP ${response.status} without a token`);
    return { token };
  }

  /** Telnyx's own first check of an API key: a read with no side effect. */
  async verify(credentials: TelnyxCredentials): Promise<{ ok: boolean; detail: string }> {
    let response: ProviderHttpResponse;
    try {
      response = await this.call(credentials, 'GET', '/v2/balance', {});
    } catch (error) {
      return { ok: false, detail: `${PROVIDER} could not be checked: ${describeFailure(error, PROVIDER)}` };
    }
    if (response.status === 200) return { ok: true, detail: `${PROVIDER} accepted the API key` };
    if (response.status === 401 || response.status === 403) return { ok: false, detail: `${PROVIDER} rejected the API key (HTTP ${response.status})` };
    if (response.status === 404) return { ok: false, detail: `${PROVIDER} has no API at this URL (HTTP 404); check baseUrl` };
    return { ok: false, detail: `${PROVIDER} answered HTTP ${response.status}` };
  }

  private call(
    credentials: TelnyxCredentials,
    method: 'GET' | 'POST',
    path: string,
    request: { json?: unknown; headers?: Record<string, string> },
  ): Promise<ProviderHttpResponse> {
    const base = telnyxBaseUrl(credentials);
    return this.breaker.run(originOf(base), () =>
      requestProvider(this.http, PROVIDER, {
        method,
        url: `${base}${path}`,
        headers: { authorization: `Bearer ${credentials.apiKey}`, ...request.headers },
        json: request.json,
        timeoutMs: this.timeoutMs,
      }),
    );
  }
}

/** The org's base URL without trailing slashes, else Telnyx's own. */
export function telnyxBaseUrl(credentials: Pick<TelnyxCredentials, 'baseUrl'>): string {
  return (credentials.baseUrl ?? TELNYX_DEFAULT_BASE_URL).replace(/\/+$/, '');
}

function refuseAuth(response: ProviderHttpResponse, what: string): void {
  if (response.status === 401 || response.status === 403) {
    throw ApiError.provider('PROVIDER_AUTH_FAILED', `${PROVIDER} rejected the ${what} (HTTP ${response.status})`);
  }
}
