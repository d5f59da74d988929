import { Inject, Injectable, Optional } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { AppConfig } from '@mintline/common/config';
import { ApiError } from '@mintline/common/errors/api-error';
import { CircuitBreaker, CircuitBreakerOptions } from '../http/circuit-breaker';
import { originOf } from '../http/origin-of';
import { describeFailure, requestProvider } from '../http/provider-failure';
import { ProviderHttpClient, ProviderHttpResponse } from '../http/provider-http.client';
import { SinchOAuthClient } from './sinch-oauth.client';
import { SinchProjectCredentials } from './sinch-project-credentials';

export const SINCH_TRUNK_OPTIONS = Symbol('SINCH_TRUNK_OPTIONS');

export interface SinchTrunkClientOptions {
  /** Per-request budget. Default 5000 ms. */
  timeoutMs?: number;
  /** Page size for listing, 1–500 (Sinch's maximum). Default 500. */
  pageSize?: number;
  /** Safety stop for listing. Default 50 pages. */
  maxPages?: number;
  breaker?: CircuitBreakerOptions;
}

export interface SinchVerifyResult {
  ok: boolean;
  detail: string;
}

/** An EST phone number, as `GET /v1/projects/{projectId}/phoneNumbers[/{e164}]` returns it. */
export interface SinchTrunkNumber {
  id?: string;
  phoneNumber: string;
  sipTrunkId?: string;
  countryCode?: string;
}

const PROVIDER = 'Sinch Elastic SIP Trunking';
const E164 = /^\+[1-9]\d{1,14}$/;

/**
 * Reads the Elastic SIP Trunking API (`SINCH_EST_URL`, paths `/v1/projects/{projectId}/...`) with a
 * bearer from SinchOAuthClient. A 401 drops the cached token and retries once with a fresh one.
 */
@Injectable()
export class SinchTrunkClient {
  private readonly timeoutMs: number;
  private readonly pageSize: number;
  private readonly maxPages: number;
  private readonly breaker: CircuitBreaker;

  constructor(
    private readonly config: AppConfig,
    clock: Clock,
    private readonly http: ProviderHttpClient,
    private readonly oauth: SinchOAuthClient,
    @Optional() @Inject(SINCH_TRUNK_OPTIONS) options?: SinchTrunkClientOptions,
  ) {
    // Else the HTTP client's budget: 5000 ms unless PROVIDER_HTTP_OPTIONS says otherwise (tests shorten it).
    this.timeoutMs = options?.timeoutMs ?? http.timeoutMs;
    this.pageSize = Math.min(500, Math.max(1, options?.pageSize ?? 500));
    this.maxPages = Math.max(1, options?.maxPages ?? 50);
    this.breaker = new CircuitBreaker(clock, PROVIDER, options?.breaker);
  }

  /** True when the number is an EST number of the project assigned to `trunkId`; a 404 means it is not. */
  async isNumberOnTrunk(orgId: string, credentials: SinchProjectCredentials, trunkId: string, e164: string): Promise<boolean> {
    if (!E164.test(e164)) {
      throw ApiError.validation([{ field: 'phoneNumber', message: 'must be an E.164 number' }]);
    }
    // E.164 characters are all path-safe, so the number goes in as is, "+" included.
    const response = await this.get(orgId, credentials, `${projectPath(credentials)}/phoneNumbers/${e164}`);
    if (response.status === 404) return false;
    this.ensureOk(response);
    const number = response.json as Partial<SinchTrunkNumber> | undefined;
    if (typeof number !== 'object' || number === null) {
      throw ApiError.provider('PROVIDER_ERROR', `${PROVIDER} answered without a phone number`);
    }
    return number.sipTrunkId === trunkId && (number.phoneNumber === undefined || number.phoneNumber === e164);
  }

  /** Every EST number assigned to the trunk, following Sinch's page/size paging. */
  async listTrunkNumbers(orgId: string, credentials: SinchProjectCredentials, trunkId: string): Promise<SinchTrunkNumber[]> {
    const numbers: SinchTrunkNumber[] = [];
    for (let page = 1; page <= this.maxPages; page += 1) {
      const query = new URLSearchParams({ sipTrunkId: trunkId, page: String(page), size: String(this.pageSize) });
      const response = await this.get(orgId, credentials, `${projectPath(credentials)}/phoneNumbers?${query.toString()}`);
      this.ensureOk(response);
      const body = response.json as { phoneNumbers?: unknown; totalItems?: unknown } | undefined;
      if (!body || !Array.isArray(body.phoneNumbers)) {
        throw ApiError.provider('PROVIDER_ERROR', `${PROVIDER} answered a phone number list without phoneNumbers`);
      }
      for (const item of body.phoneNumbers as Partial<SinchTrunkNumber>[]) {
        if (item && typeof item.phoneNumber === 'string') numbers.push(item as SinchTrunkNumber);
      }
      const total = typeof body.totalItems === 'number' ? body.totalItems : undefined;
      if (body.phoneNumbers.length < this.pageSize || (total !== undefined && numbers.length >= total)) return numbers;
    }
    return numbers;
  }

  /**
   * Checks `sinch-project` credentials: an OAuth token must be issued for the key and, when a trunk
   * is configured, the trunk must be readable in the project.
   */
  async verify(orgId: string, credentials: SinchProjectCredentials): Promise<SinchVerifyResult> {
    try {
      await this.oauth.getAccessToken(orgId, credentials);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'PROVIDER_AUTH_FAILED') {
        return { ok: false, detail: 'Sinch rejected the access key ID or secret' };
      }
      return { ok: false, detail: `Sinch could not be checked: ${describeFailure(error)}` };
    }
    if (!credentials.trunkId) return { ok: true, detail: 'Sinch issued an access token for the key' };

    let response: ProviderHttpResponse;
    try {
      response = await this.get(orgId, credentials, `${projectPath(credentials)}/trunks/${encodeURIComponent(credentials.trunkId)}`);
    } catch (error) {
      return { ok: false, detail: `Sinch Elastic SIP Trunking could not be checked: ${describeFailure(error)}` };
    }
    const { status } = response;
    if (status >= 200 && status < 300) {
      return { ok: true, detail: `Sinch issued an access token and trunk ${credentials.trunkId} exists in the project` };
    }
    if (status === 404) {
      return { ok: false, detail: `Trunk ${credentials.trunkId} was not found in project ${credentials.projectId}` };
    }
    if (status === 401 || status === 403) {
      return { ok: false, detail: `The access key may not read Elastic SIP Trunking in project ${credentials.projectId} (HTTP ${status})` };
    }
    return { ok: false, detail: `${PROVIDER} answered HTTP ${status}` };
  }

  /** Any answer below 500 comes back to the caller, after one retry of a 401 with a fresh token. */
  private async get(orgId: string, credentials: SinchProjectCredentials, pathAndQuery: string): Promise<ProviderHttpResponse> {
    const url = `${this.config.sinchEstUrl.replace(/\/+$/, '')}${pathAndQuery}`;
    let response: ProviderHttpResponse | undefined;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const { token } = await this.oauth.getAccessToken(orgId, credentials);
      response = await this.breaker.run(originOf(url), () => this.send(url, token));
      if (response.status !== 401) return response;
      this.oauth.invalidate(orgId, token);
    }
    return response as ProviderHttpResponse;
  }

  private send(url: string, token: string): Promise<ProviderHttpResponse> {
    // SINCH_EST_URL is the operator's, not a tenant's.
    return requestProvider(this.http, PROVIDER, { method: 'GET', url, headers: { authorization: `Bearer ${token}` }, timeoutMs: this.timeoutMs, operatorUrl: true });
  }

  private ensureOk(response: ProviderHttpResponse): void {
    const { status } = response;
    if (status === 401 || status === 403) {
      throw ApiError.provider('PROVIDER_AUTH_FAILED', `${PROVIDER} refused the access key (HTTP ${status}${estError(response)})`);
    }
    if (status < 200 || status >= 300) {
      throw ApiError.provider('PROVIDER_ERROR', `${PROVIDER} answered HTTP ${status}${estError(response)}`);
    }
  }
}

function projectPath(credentials: SinchProjectCredentials): string {
  return `/v1/projects/${encodeURIComponent(credentials.projectId)}`;
}

/** EST's error body: `{code, status, message, details}`; only the status name is repeated. */
function estError(response: ProviderHttpResponse): string {
  const status = (response.json as { status?: unknown } | undefined)?.status;
  return typeof status === 'string' && /^[A-Z_]{1,64}$/.test(status) ? `, ${status}` : '';
}
