import { expectError, expectStatus } from './assertions';
import { createOrgWithAdmin, OrgFixture } from './fixtures';
import { client, Client, HttpResult } from './http';
import { createApiKey, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET } from './minting';
import { startTestApp, TestApp, TestAppOptions } from './test-app';

/** Shared helpers for the WebRTC endpoint, call-token, rate-limit and scale-out specs. */

export const CALL_TOKEN_PATTERN = /^mct_[A-Za-z0-9_-]+$/;
/** Sinch's published example application (API.md, Minting). */
export const SINCH_APP = { applicationKey: SINCH_EXAMPLE_KEY, applicationSecret: SINCH_EXAMPLE_SECRET };

export function must(response: HttpResult, status: number, what: string): HttpResult {
  if (response.status !== status) throw new Error(`${what}: expected ${status}, got ${response.status} ${response.text}`);
  return response;
}

export async function setOrg(org: OrgFixture, patch: { features?: { webrtc?: boolean }; limits?: { mintsPerMinute?: number } }): Promise<HttpResult> {
  return must(await org.operator.patch(`/api/orgs/${org.orgId}`, patch), 200, 'PATCH org');
}

export async function createEndpoint(admin: Client, name = 'Support line', webrtc = true): Promise<string> {
  const created = must(await admin.post('/api/endpoints', { name, webrtc }), 201, 'create endpoint');
  return created.body.id as string;
}

export interface WebrtcOrg extends OrgFixture {
  endpointId: string;
  backendKey: { id: string; token: string };
  /** A client authenticated with the backend API key (CREATE_CALL_TOKEN + READ_CALL_TOKEN). */
  backend: Client;
}

/** An org with `features.webrtc` on, one active WebRTC endpoint and a backend API key that mints call tokens. */
export async function createWebrtcOrg(app: TestApp, name = 'WebRTC Co', options: { mintsPerMinute?: number } = {}): Promise<WebrtcOrg> {
  const org = await createOrgWithAdmin(app, name);
  await setOrg(org, { features: { webrtc: true }, ...(options.mintsPerMinute ? { limits: { mintsPerMinute: options.mintsPerMinute } } : {}) });
  const endpointId = await createEndpoint(org.admin);
  const backendKey = await createApiKey(org.admin, ['CREATE_CALL_TOKEN', 'READ_CALL_TOKEN']);
  return { ...org, endpointId, backendKey, backend: client(app.url, backendKey.token) };
}

export async function mintCallToken(backend: Client, endpointId: string, ttlSeconds?: number): Promise<{ id: string; token: string; endpointId: string; expiresAt: string }> {
  const minted = must(await backend.post('/api/call-tokens', ttlSeconds === undefined ? { endpointId } : { endpointId, ttlSeconds }), 201, 'mint call token');
  return minted.body;
}

/** The start of the next real-time minute plus `offsetMs`, for a ManualClock whose windows do not roll over mid-test. */
export function nextMinute(offsetMs = 10_000): number {
  const now = Date.now();
  return now - (now % 60_000) + 60_000 + offsetMs;
}

/**
 * Another instance of the service on `first`'s database, configured as a real deployment would be: the
 * same MASTER_KEYS, JWT_SECRET and OPERATOR_TOKEN (else it could neither read the stored credentials nor
 * accept the first instance's access tokens).
 */
export async function startSecondInstance(first: TestApp, options: TestAppOptions = {}): Promise<TestApp> {
  return startTestApp({
    ...options,
    db: first.db,
    config: { masterKeys: first.config.masterKeys, jwtSecret: first.config.jwtSecret, operatorToken: first.config.operatorToken, ...options.config },
  });
}

/**
 * A redemption raced against a revocation of the same token: exactly one of them won, the other was
 * refused for it, and the token's state says which.
 */
export function expectOneOfRedeemOrRevoke(outcomes: Array<{ redeemed: HttpResult; revoked: HttpResult; status: string }>): void {
  for (const { redeemed, revoked, status } of outcomes) {
    if (redeemed.status === 200) {
      expectError(revoked, 409, 'TOKEN_REDEEMED');
      expect(status).toBe('redeemed');
    } else {
      expectError(redeemed, 401, 'TOKEN_REVOKED');
      expectStatus(revoked, 204);
      expect(status).toBe('revoked');
    }
  }
}
