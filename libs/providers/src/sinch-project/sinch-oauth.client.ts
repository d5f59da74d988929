import { createHash } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { AppConfig } from '@mintline/common/config';
import { ApiError } from '@mintline/common/errors/api-error';
import { CircuitBreaker, CircuitBreakerOptions } from '../http/circuit-breaker';
import { transportFailure } from '../http/provider-failure';
import { originOf } from '../http/origin-of';
import { ProviderHttpClient, ProviderHttpResponse } from '../http/provider-http.client';
import type { SinchAccessToken } from './sinch-access-token';
import { SinchProjectCredentials } from './sinch-project-credentials';
import { SINCH_TOKEN_AUDIT, SinchTokenAudit } from './sinch-token-audit';

export const SINCH_OAUTH_OPTIONS = Symbol('SINCH_OAUTH_OPTIONS');

export interface SinchOAuthClientOptions {
  /** Per-request budget. Default 5000 ms. */
  timeoutMs?: number;
  /** A cached token is replaced this long before it expires (at most half its lifetime). Default 60000 ms. */
  refreshBeforeExpiryMs?: number;
  breaker?: CircuitBreakerOptions;
}

interface CachedToken {
  fingerprint: string;
  token: SinchAccessToken;
  refreshAtMs: number;
}

interface InFlight {
  fingerprint: string;
  promise: Promise<SinchAccessToken>;
}

const PROVIDER = 'Sinch auth';

/**
 * OAuth2 client credentials against `SINCH_AUTH_URL` (Basic keyId:keySecret, form
 * `grant_type=client_credentials`), cached per org until shortly before expiry. Concurrent callers
 * for the same org and key share one fetch; a changed key ID or secret never reuses the old token.
 */
@Injectable()
export class SinchOAuthClient {
  private readonly timeoutMs: number;
  private readonly refreshBeforeExpiryMs: number;
  private readonly breaker: CircuitBreaker;
  private readonly cache = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, InFlight>();

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly http: ProviderHttpClient,
    @Inject(SINCH_TOKEN_AUDIT) private readonly tokenAudit: SinchTokenAudit,
    @Optional() @Inject(SINCH_OAUTH_OPTIONS) options?: SinchOAuthClientOptions,
  ) {
    // Else the HTTP client's budget: 5000 ms unless PROVIDER_HTTP_OPTIONS says otherwise (tests shorten it).
    this.timeoutMs = options?.timeoutMs ?? http.timeoutMs;
    this.refreshBeforeExpiryMs = options?.refreshBeforeExpiryMs ?? 60_000;
    this.breaker = new CircuitBreaker(clock, PROVIDER, options?.breaker);
  }

  async getAccessToken(orgId: string, credentials: SinchProjectCredentials): Promise<SinchAccessToken> {
    const fingerprint = keyFingerprint(credentials);
    const cached = this.cache.get(orgId);
    if (cached && cached.fingerprint === fingerprint && this.clock.nowMs() < cached.refreshAtMs) return cached.token;

    const pending = this.inFlight.get(orgId);
    if (pending && pending.fingerprint === fingerprint) return pending.promise;

    const entry = { fingerprint } as InFlight;
    entry.promise = this.fetchAndCache(orgId, credentials, entry).finally(() => {
      if (this.inFlight.get(orgId) === entry) this.inFlight.delete(orgId);
    });
    this.inFlight.set(orgId, entry);
    return entry.promise;
  }

  /**
   * Drops the org's cached token (call it when its credentials change). With `rejectedToken`, only
   * drops the cache if it still holds that token, so a token refreshed meanwhile survives.
   */
  invalidate(orgId: string, rejectedToken?: string): void {
    const cached = this.cache.get(orgId);
    if (rejectedToken !== undefined && cached && cached.token.token !== rejectedToken) return;
    this.cache.delete(orgId);
    if (rejectedToken === undefined) this.inFlight.delete(orgId);
  }

  private async fetchAndCache(orgId: string, credentials: SinchProjectCredentials, entry: InFlight): Promise<SinchAccessToken> {
    const token = await this.breaker.run(originOf(this.config.sinchAuthUrl), () => this.fetchToken(credentials));
    // Audited before it is cached or used: if the audit fails, the token is never used.
    await this.tokenAudit.tokenFetched(orgId, token);
    // Invalidated while fetching: hand the token to the callers who asked, but do not keep it.
    if (this.inFlight.get(orgId) === entry) {
      const lifetimeMs = token.expiresAt.getTime() - this.clock.nowMs();
      const early = Math.min(this.refreshBeforeExpiryMs, lifetimeMs / 2);
      this.cache.set(orgId, { fingerprint: entry.fingerprint, token, refreshAtMs: token.expiresAt.getTime() - early });
    }
    return token;
  }

  private async fetchToken(credentials: SinchProjectCredentials): Promise<SinchAccessToken> {
    const requestedAt = this.clock.nowMs();
    let response: ProviderHttpResponse;
    try {
      response = await this.http.request({
        method: 'POST',
        url: this.config.sinchAuthUrl,
        headers: {
          authorization: `Basic ${Buffer.from(`${credentials.keyId}:${credentials.keySecret}`, 'utf8').toString('base64')}`,
        },
        form: { grant_type: 'client_credentials' },
        timeoutMs: this.timeoutMs,
        // SINCH_AUTH_URL is the operator's, not a tenant's.
        operatorUrl: true,
      });
    } catch (error) {
      throw transportFailure(PROVIDER, error);
    }

    const { status } = response;
    if (status === 400 || status === 401 || status === 403) {
      throw ApiError.provider('PROVIDER_AUTH_FAILED', `Sinch rejected the access key ID or secret (HTTP ${status}${oauthError(response)})`);
    }
    if (status >= 500 || status === 429) {
      throw ApiError.provider('PROVIDER_UNAVAILABLE', `${PROVIDER} answered HTTP ${status}`);
    }
    if (status < 200 || status >= 300) {
      throw ApiError.provider('PROVIDER_ERROR', `${PROVIDER} answered HTTP ${status}`);
    }

    const body = (response.json ?? {}) as { access_token?: unknown; expires_in?: unknown; token_type?: unknown };
    const expiresIn = typeof body.expires_in === 'string' ? Number(body.expires_in) : body.expires_in;
    if (typeof body.access_token !== 'string' || body.access_token === '') {
      throw ApiError.provider('PROVIDER_ERROR', `${PROVIDER} answered without an access_token`);
    }
    if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw ApiError.provider('PROVIDER_ERROR', `${PROVIDER} answered without a valid expires_in`);
    }
    if (body.token_type !== undefined && String(body.token_type).toLowerCase() !== 'bearer') {
      throw ApiError.provider('PROVIDER_ERROR', `${PROVIDER} answered an unsupported token_type`);
    }
    return { token: body.access_token, expiresAt: new Date(requestedAt + expiresIn * 1000) };
  }
}

/** Identifies the key without keeping the secret itself as a map key. */
function keyFingerprint(credentials: SinchProjectCredentials): string {
  return createHash('sha256').update(credentials.keyId).update('\u0000').update(credentials.keySecret).digest('hex');
}

/** RFC 6749 §5.2 error body: `{error, error_description?}`; only the error code is repeated. */
function oauthError(response: ProviderHttpResponse): string {
  const error = (response.json as { error?: unknown } | undefined)?.error;
  return typeof error === 'string' && /^[\w.-]{1,64}$/.test(error) ? `, ${error}` : '';
}
