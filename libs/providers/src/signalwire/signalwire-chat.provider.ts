import { Inject, Injectable, Optional } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { ApiError } from '@mintline/common/errors/api-error';
import { MintResult, TokenProvider } from '../token-provider';
import { CircuitBreaker, CircuitBreakerOptions } from '../http/circuit-breaker';
import { describeFailure, requestProvider, transportFailure } from '../http/provider-failure';
import { ProviderHttpClient, ProviderHttpResponse } from '../http/provider-http.client';
import { ProviderHttpError } from '../http/provider-http.error';
import type { VerifyResult } from '../registry/provider-entry';
import { ChatTokenRequest } from './chat-token-request';

export const SIGNALWIRE_CHAT_OPTIONS = Symbol('SIGNALWIRE_CHAT_OPTIONS');

export interface SignalWireCredentials {
  /** https URL of the space, e.g. https://example.signalwire.com; only its origin is used. */
  spaceUrl: string;
  projectId: string;
  apiToken: string;
}

export interface SignalWireChatProviderOptions {
  /** Per-request budget. Default 5000 ms (the contract's). */
  timeoutMs?: number;
  breaker?: CircuitBreakerOptions;
}

const PROVIDER = 'SignalWire';
const CHAT_TOKENS_PATH = '/api/chat/tokens';

/**
 * Mints SignalWire Chat tokens through the org's own space (`POST {space}/api/chat/tokens`, Basic
 * projectId:apiToken). One circuit breaker per space origin keeps a dead space from tying up requests.
 */
@Injectable()
export class SignalWireChatProvider implements TokenProvider<SignalWireCredentials, ChatTokenRequest> {
  readonly name = 'signalwire-chat' as const;
  private readonly timeoutMs: number;
  private readonly breaker: CircuitBreaker;

  constructor(
    private readonly clock: Clock,
    private readonly http: ProviderHttpClient,
    @Optional() @Inject(SIGNALWIRE_CHAT_OPTIONS) options?: SignalWireChatProviderOptions,
  ) {
    // Else the HTTP client's budget: 5000 ms unless PROVIDER_HTTP_OPTIONS says otherwise (tests shorten it).
    this.timeoutMs = options?.timeoutMs ?? http.timeoutMs;
    this.breaker = new CircuitBreaker(clock, PROVIDER, options?.breaker);
  }

  /** `request` must come from parseChatTokenRequest. */
  async mint(credentials: SignalWireCredentials, request: ChatTokenRequest): Promise<MintResult> {
    const origin = spaceOrigin(credentials.spaceUrl);
    const requestedAt = this.clock.nowMs();
    const response = await this.breaker.run(origin, () => this.post(origin, credentials, request));

    if (response.status === 401 || response.status === 403) {
      throw ApiError.provider('PROVIDER_AUTH_FAILED', `${PROVIDER} rejected the project ID or API token (HTTP ${response.status})`);
    }
    if (response.status < 200 || response.status >= 300) {
      // The status only: the body is whatever the host at the stored URL chose to say, and is not passed on.
      throw ApiError.provider('PROVIDER_ERROR', `${PROVIDER} refused the chat token request (HTTP ${response.status})`);
    }
    const token = (response.json as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token === '') {
      throw ApiError.provider('PROVIDER_ERROR', `${PROVIDER} answered HTTP ${response.status} without a token`);
    }
    // Counted from before the call: SignalWire starts the ttl when it issues, so this is never late.
    return { token, expiresAt: new Date(requestedAt + request.ttl * 60_000) };
  }

  /**
   * Proves the credentials without minting anything: an empty body to the chat tokens endpoint.
   * SignalWire authenticates (and checks the token's Chat scope) before validating the body, so a
   * 422 for the missing `ttl` means the credentials work; a 401/403 means they do not.
   * (A GET such as the Compatibility API's Accounts read would need the Management scope, which a
   * chat-only API token rightly lacks.)
   */
  async verify(credentials: SignalWireCredentials): Promise<VerifyResult> {
    let response: ProviderHttpResponse;
    try {
      const origin = spaceOrigin(credentials.spaceUrl);
      response = await this.breaker.run(origin, () => this.post(origin, credentials, {}));
    } catch (error) {
      return { ok: false, detail: `${PROVIDER} space could not be checked: ${describeFailure(error, PROVIDER)}` };
    }
    const status = response.status;
    if (status === 422 || (status >= 200 && status < 300)) {
      return { ok: true, detail: `${PROVIDER} accepted the project ID and API token for Chat` };
    }
    if (status === 401 || status === 403) {
      return { ok: false, detail: `${PROVIDER} rejected the project ID or API token, or the token lacks the Chat scope (HTTP ${status})` };
    }
    if (status === 404) {
      return { ok: false, detail: `${PROVIDER} space has no Chat API at this URL (HTTP 404); check spaceUrl` };
    }
    return { ok: false, detail: `${PROVIDER} answered HTTP ${status}` };
  }

  /** Resolves with any answer below 500; 5xx and transport failures become PROVIDER_UNAVAILABLE for the breaker. */
  private post(origin: string, credentials: SignalWireCredentials, body: unknown): Promise<ProviderHttpResponse> {
    return requestProvider(this.http, PROVIDER, {
      method: 'POST',
      url: `${origin}${CHAT_TOKENS_PATH}`,
      headers: { authorization: basicAuth(credentials.projectId, credentials.apiToken) },
      json: body,
      timeoutMs: this.timeoutMs,
    });
  }
}

function spaceOrigin(spaceUrl: string): string {
  try {
    return new URL(spaceUrl).origin;
  } catch {
    throw transportFailure(PROVIDER, new ProviderHttpError('invalid_url', 'invalid space URL', { method: 'POST', target: '(invalid URL)' }));
  }
}

function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}
