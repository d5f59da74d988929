import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ManualClock } from '../libs/common/src/clock';
import { expectError, expectStatus, expectValidation, ISO_PATTERN, UUID_PATTERN } from './support/assertions';
import { CALL_TOKEN_PATTERN, createEndpoint, createWebrtcOrg, expectOneOfRedeemOrRevoke, mintCallToken, nextMinute, setOrg, WebrtcOrg } from './support/call-tokens';
import { createOrgWithAdmin, createUser } from './support/fixtures';
import { client, Client } from './support/http';
import { allMintEntries, createApiKey, fingerprintOf } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Call tokens end to end (API.md, "WebRTC endpoints and call tokens"): a backend API key mints, an anonymous
 * browser redeems exactly once, and every mint, redemption and revocation is audited.
 */

let app: TestApp;
let w: WebrtcOrg;
let other: WebrtcOrg;
let anonymous: Client;

beforeAll(async () => {
  app = await startTestApp();
  w = await createWebrtcOrg(app, 'Call Token Co');
  other = await createWebrtcOrg(app, 'Other Call Token Co');
  anonymous = client(app.url);
});

afterAll(async () => {
  await app?.close();
});

const redeem = (token: unknown, via: Client = anonymous, headers: Record<string, string> = {}) => via.post('/api/call-tokens/redeem', { token }, { headers });
const requestId = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

describe('the browser-SDK flow', () => {
  it('operator enables webrtc, a backend key mints, an anonymous client redeems once, the state moves active → redeemed', async () => {
    const org = await createOrgWithAdmin(app, 'SDK Flow Co');
    const created = await org.operator.get(`/api/orgs/${org.orgId}`);
    expect(created.body.features).toEqual({ webrtc: false });
    expect(created.body.limits).toEqual({ mintsPerMinute: 600 });
    const enabled = await org.operator.patch(`/api/orgs/${org.orgId}`, { features: { webrtc: true } });
    expectStatus(enabled, 200);
    expect(enabled.body).toEqual(expect.objectContaining({ id: org.orgId, features: { webrtc: true }, limits: { mintsPerMinute: 600 } }));

    const endpointId = await createEndpoint(org.admin, 'Website call button');
    const key = await createApiKey(org.admin, ['CREATE_CALL_TOKEN', 'READ_CALL_TOKEN']);
    const backend = client(app.url, key.token);

    const before = Date.now();
    const minted = await backend.post('/api/call-tokens', { endpointId });
    const after = Date.now();
    expectStatus(minted, 201);
    expect(minted.headers.get('content-type')).toMatch(/^application\/json/);
    expect(minted.body).toEqual({
      id: expect.stringMatching(UUID_PATTERN),
      token: expect.stringMatching(CALL_TOKEN_PATTERN),
      endpointId,
      expiresAt: expect.stringMatching(ISO_PATTERN),
    });
    // Default lifetime: 300 s.
    const expiresAt = Date.parse(minted.body.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 300_000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(after + 300_000 + 1000);

    const state = await backend.get(`/api/call-tokens/${minted.body.id}`);
    expectStatus(state, 200);
    expect(state.body).toEqual({
      id: minted.body.id,
      endpointId,
      status: 'active',
      createdAt: expect.stringMatching(ISO_PATTERN),
      expiresAt: minted.body.expiresAt,
      redeemedAt: null,
      mintedBy: { kind: 'api_key', id: key.id },
    });
    expect(Math.abs(Date.parse(state.body.expiresAt) - Date.parse(state.body.createdAt) - 300_000)).toBeLessThan(1000);
    expect(state.text).not.toContain(minted.body.token);
    expect(state.text).not.toContain(minted.body.token.slice(4));

    // The browser holds only the token: no credential at all.
    const session = await anonymous.post('/api/call-tokens/redeem', { token: minted.body.token });
    expectStatus(session, 200);
    expect(session.body).toEqual({ sessionId: expect.stringMatching(UUID_PATTERN), endpointId, orgId: org.orgId });

    const redeemed = await backend.get(`/api/call-tokens/${minted.body.id}`);
    expect(redeemed.body).toEqual({ ...state.body, status: 'redeemed', redeemedAt: expect.stringMatching(ISO_PATTERN) });
    expect(Date.parse(redeemed.body.redeemedAt)).toBeGreaterThanOrEqual(Date.parse(state.body.createdAt));
    expect(redeemed.text).not.toContain(minted.body.token);

    // Single use.
    expectError(await anonymous.post('/api/call-tokens/redeem', { token: minted.body.token }), 401, 'TOKEN_REDEEMED');
    expect((await backend.get(`/api/call-tokens/${minted.body.id}`)).body.status).toBe('redeemed');
  });

  it('accepts ttlSeconds 30 and 900, refuses 29, 901 and non-integers with 400', async () => {
    for (const ttl of [30, 900]) {
      const minted = await w.backend.post('/api/call-tokens', { endpointId: w.endpointId, ttlSeconds: ttl });
      expectStatus(minted, 201);
      const state = await w.backend.get(`/api/call-tokens/${minted.body.id}`);
      expect(Math.abs(Date.parse(state.body.expiresAt) - Date.parse(state.body.createdAt) - ttl * 1000)).toBeLessThan(1000);
    }
    for (const ttl of [29, 901, 0, -1, 300.5, '300', true, 1e9]) {
      expectValidation(await w.backend.post('/api/call-tokens', { endpointId: w.endpointId, ttlSeconds: ttl }), 'ttlSeconds');
    }
    expectValidation(await w.backend.post('/api/call-tokens', {}), 'endpointId');
    expectValidation(await w.backend.post('/api/call-tokens', { endpointId: 'not-a-uuid' }), 'endpointId');
    expectValidation(await w.backend.post('/api/call-tokens', { endpointId: w.endpointId, userId: randomUUID() }));
    expectValidation(await w.backend.post('/api/call-tokens', { endpointId: w.endpointId, token: 'mct_chosen' }));
  });

  it('a user with CREATE_CALL_TOKEN (an agent) mints too, and is named as the minter', async () => {
    const agent = await createUser(app, w, 'agent');
    const minted = await agent.client.post('/api/call-tokens', { endpointId: w.endpointId, ttlSeconds: 60 });
    expectStatus(minted, 201);
    const state = await agent.client.get(`/api/call-tokens/${minted.body.id}`);
    expect(state.body.mintedBy).toEqual({ kind: 'user', id: agent.id });
    expectStatus(await redeem(minted.body.token), 200);
  });

  it('GET /api/call-tokens/{id} needs READ_CALL_TOKEN, answers 404 for unknown ids and other orgs, 400 for non-UUIDs', async () => {
    const minted = await mintCallToken(w.backend, w.endpointId);
    const createOnly = await createApiKey(w.admin, ['CREATE_CALL_TOKEN']);
    expectError(await client(app.url, createOnly.token).get(`/api/call-tokens/${minted.id}`), 403, 'MISSING_SCOPE');
    expectError(await w.backend.get(`/api/call-tokens/${randomUUID()}`), 404, 'NOT_FOUND');
    expectError(await other.backend.get(`/api/call-tokens/${minted.id}`), 404, 'NOT_FOUND');
    expectValidation(await w.backend.get('/api/call-tokens/not-a-uuid'));
    expectError(await anonymous.get(`/api/call-tokens/${minted.id}`), 401, 'UNAUTHORIZED');
  });
});

describe('the mint error table', () => {
  it("400 ENDPOINT_NOT_FOUND for an unknown endpoint and for another org's endpoint", async () => {
    expectError(await w.backend.post('/api/call-tokens', { endpointId: randomUUID() }), 400, 'ENDPOINT_NOT_FOUND');
    expectError(await w.backend.post('/api/call-tokens', { endpointId: other.endpointId }), 400, 'ENDPOINT_NOT_FOUND');
    const rows = await app.db.query('SELECT id FROM call_tokens WHERE endpoint_id = $1 AND org_id = $2', [other.endpointId, w.orgId]);
    expect(rows).toEqual([]);
  });

  it('400 ENDPOINT_NOT_WEBRTC for an endpoint that is not WebRTC-capable', async () => {
    const phoneOnly = await createEndpoint(w.admin, 'Phone only', false);
    expectError(await w.backend.post('/api/call-tokens', { endpointId: phoneOnly }), 400, 'ENDPOINT_NOT_WEBRTC');
    // Switching WebRTC on makes it mintable.
    await w.admin.patch(`/api/endpoints/${phoneOnly}`, { webrtc: true });
    expectStatus(await w.backend.post('/api/call-tokens', { endpointId: phoneOnly }), 201);
  });

  it('401 without a key or with a bad one, in either header', async () => {
    expectError(await anonymous.post('/api/call-tokens', { endpointId: w.endpointId }), 401, 'UNAUTHORIZED');
    expectError(await client(app.url, `mlk_${randomBytes(32).toString('base64url')}`).post('/api/call-tokens', { endpointId: w.endpointId }), 401, 'UNAUTHORIZED');
    expectError(await anonymous.post('/api/call-tokens', { endpointId: w.endpointId }, { apiKey: `mlk_${randomBytes(32).toString('base64url')}` }), 401, 'UNAUTHORIZED');
    expectError(await client(app.url, 'not a key').post('/api/call-tokens', { endpointId: w.endpointId }), 401, 'UNAUTHORIZED');
    // The good key works through X-API-Key as well.
    expectStatus(await anonymous.post('/api/call-tokens', { endpointId: w.endpointId }, { apiKey: w.backendKey.token }), 201);
  });

  it('403 MISSING_SCOPE for a key without CREATE_CALL_TOKEN while the flag is on (and for an auditor)', async () => {
    const readOnly = await createApiKey(w.admin, ['READ_CALL_TOKEN', 'MANAGE_ENDPOINTS']);
    expectError(await client(app.url, readOnly.token).post('/api/call-tokens', { endpointId: w.endpointId }), 403, 'MISSING_SCOPE');
    const auditor = await createUser(app, w, 'auditor');
    expectError(await auditor.client.post('/api/call-tokens', { endpointId: w.endpointId }), 403, 'MISSING_SCOPE');
  });

  it('403 FEATURE_DISABLED while the flag is off: for a key with every scope and for a key lacking the scope', async () => {
    const org = await createOrgWithAdmin(app, 'Flag Off Mint Co');
    await setOrg(org, { features: { webrtc: true } });
    const endpointId = await createEndpoint(org.admin);
    const everything = await createApiKey(org.admin, [
      'CREATE_CALL_TOKEN',
      'READ_CALL_TOKEN',
      'CREATE_CHAT_TOKEN',
      'MANAGE_USERS',
      'MANAGE_CREDENTIALS',
      'MANAGE_API_KEYS',
      'MANAGE_ENDPOINTS',
      'READ_AUDIT',
    ]);
    const lacking = await createApiKey(org.admin, ['READ_AUDIT']);
    const minted = await mintCallToken(client(app.url, everything.token), endpointId);
    await setOrg(org, { features: { webrtc: false } });

    expectError(await client(app.url, everything.token).post('/api/call-tokens', { endpointId }), 403, 'FEATURE_DISABLED');
    expectError(await client(app.url, lacking.token).post('/api/call-tokens', { endpointId }), 403, 'FEATURE_DISABLED');
    expectError(await org.admin.post('/api/call-tokens', { endpointId }), 403, 'FEATURE_DISABLED');
    // The whole surface: reading and revoking too.
    expectError(await client(app.url, everything.token).get(`/api/call-tokens/${minted.id}`), 403, 'FEATURE_DISABLED');
    expectError(await client(app.url, everything.token).delete(`/api/call-tokens/${minted.id}`), 403, 'FEATURE_DISABLED');
    // A token minted before the switch-off opens no session while the flag is off.
    const refused = await redeem(minted.token);
    expect(refused.status).toBe(401);
    expectError(refused, 401, 'TOKEN_INVALID');

    // Switched back on, it works again, and the earlier token was never consumed.
    await setOrg(org, { features: { webrtc: true } });
    expectStatus(await client(app.url, everything.token).post('/api/call-tokens', { endpointId }), 201);
    expectStatus(await redeem(minted.token), 200);
  });

  it('409 ENDPOINT_ARCHIVED for an archived endpoint; re-activated it takes tokens again', async () => {
    const endpointId = await createEndpoint(w.admin, 'Seasonal line');
    const early = await mintCallToken(w.backend, endpointId);
    await w.admin.patch(`/api/endpoints/${endpointId}`, { state: 'archived' });
    expectError(await w.backend.post('/api/call-tokens', { endpointId }), 409, 'ENDPOINT_ARCHIVED');
    // A token minted before archiving opens no session on the archived endpoint.
    expectError(await redeem(early.token), 401, 'TOKEN_INVALID');
    await w.admin.patch(`/api/endpoints/${endpointId}`, { state: 'active' });
    expectStatus(await w.backend.post('/api/call-tokens', { endpointId }), 201);
  });

  it('429 RATE_LIMITED with Retry-After past limits.mintsPerMinute, audited as denied', async () => {
    const clock = new ManualClock(nextMinute(15_000));
    const limited = await startTestApp({ clock });
    try {
      const org = await createWebrtcOrg(limited, 'Limited Call Token Co');
      const patched = await setOrg(org, { limits: { mintsPerMinute: 3 } });
      expect(patched.body.limits).toEqual({ mintsPerMinute: 3 });
      for (let i = 0; i < 3; i++) expectStatus(await org.backend.post('/api/call-tokens', { endpointId: org.endpointId }), 201);
      const id = requestId('limited');
      const refused = await org.backend.post('/api/call-tokens', { endpointId: org.endpointId }, { headers: { 'x-request-id': id } });
      expectError(refused, 429, 'RATE_LIMITED');
      // 15 s into the minute: the window ends in 45 s.
      expect(refused.headers.get('retry-after')).toBe('45');
      const entries = await allMintEntries(org.admin, 'provider=call-token');
      expect(entries.filter((entry) => entry.requestId === id)).toEqual([
        expect.objectContaining({
          provider: 'call-token',
          action: 'mint',
          outcome: 'denied',
          code: 'RATE_LIMITED',
          tokenFingerprint: null,
          actor: { kind: 'api_key', id: org.backendKey.id },
        }),
      ]);
      // No row behind the refusal.
      const [{ n }] = await limited.db.query<{ n: string }>('SELECT count(*)::text AS n FROM call_tokens WHERE org_id = $1', [org.orgId]);
      expect(n).toBe('3');
    } finally {
      await limited.close();
    }
  });
});

describe('redemption and revocation', () => {
  it('a second redemption is 401 TOKEN_REDEEMED', async () => {
    const minted = await mintCallToken(w.backend, w.endpointId);
    expectStatus(await redeem(minted.token), 200);
    expectError(await redeem(minted.token), 401, 'TOKEN_REDEEMED');
    expectError(await redeem(minted.token), 401, 'TOKEN_REDEEMED');
  });

  it('any credential the caller sends is irrelevant: the token is the credential', async () => {
    const minted = await mintCallToken(w.backend, w.endpointId);
    const session = await redeem(minted.token, client(app.url, 'garbage'));
    expectStatus(session, 200);
    expect(session.body.orgId).toBe(w.orgId);
  });

  it('DELETE revokes (204); redemption is then 401 TOKEN_REVOKED; status revoked; revoking twice is 204', async () => {
    const minted = await mintCallToken(w.backend, w.endpointId);
    const revoked = await w.backend.delete(`/api/call-tokens/${minted.id}`);
    expectStatus(revoked, 204);
    expect(revoked.text).toBe('');
    expectError(await redeem(minted.token), 401, 'TOKEN_REVOKED');
    const state = await w.backend.get(`/api/call-tokens/${minted.id}`);
    expect(state.body).toEqual(expect.objectContaining({ status: 'revoked', redeemedAt: null }));
    expectStatus(await w.backend.delete(`/api/call-tokens/${minted.id}`), 204);
    expectError(await redeem(minted.token), 401, 'TOKEN_REVOKED');
  });

  it('revoking a redeemed token is 409 and leaves it redeemed', async () => {
    const minted = await mintCallToken(w.backend, w.endpointId);
    expectStatus(await redeem(minted.token), 200);
    expectError(await w.backend.delete(`/api/call-tokens/${minted.id}`), 409, 'TOKEN_REDEEMED');
    expect((await w.backend.get(`/api/call-tokens/${minted.id}`)).body.status).toBe('redeemed');
  });

  it("revocation needs CREATE_CALL_TOKEN and the token's own org; unknown ids are 404", async () => {
    const minted = await mintCallToken(w.backend, w.endpointId);
    const readOnly = await createApiKey(w.admin, ['READ_CALL_TOKEN']);
    expectError(await client(app.url, readOnly.token).delete(`/api/call-tokens/${minted.id}`), 403, 'MISSING_SCOPE');
    expectError(await other.backend.delete(`/api/call-tokens/${minted.id}`), 404, 'NOT_FOUND');
    expectError(await w.backend.delete(`/api/call-tokens/${randomUUID()}`), 404, 'NOT_FOUND');
    expectError(await anonymous.delete(`/api/call-tokens/${minted.id}`), 401, 'UNAUTHORIZED');
    // Still good after all the refusals.
    expect((await w.backend.get(`/api/call-tokens/${minted.id}`)).body.status).toBe('active');
    expectStatus(await redeem(minted.token), 200);
  });

  it('anything that is not a live token is 401 TOKEN_INVALID; a malformed body is 400', async () => {
    const minted = await mintCallToken(w.backend, w.endpointId);
    const flipped = minted.token.slice(0, -1) + (minted.token.endsWith('A') ? 'B' : 'A');
    const garbage = [
      'garbage',
      '',
      'mct_',
      `mct_${randomBytes(32).toString('base64url')}`, // well formed, never minted
      flipped,
      minted.token.slice(4), // without its prefix
      `mlk_${minted.token.slice(4)}`,
      minted.token + 'A',
      ` ${minted.token}`,
      minted.token.toUpperCase(),
      minted.id,
      w.backendKey.token,
      "mct_' OR 1=1 --",
    ];
    for (const token of garbage) expectError(await redeem(token), 401, 'TOKEN_INVALID');
    expectValidation(await anonymous.post('/api/call-tokens/redeem', {}), 'token');
    expectValidation(await anonymous.post('/api/call-tokens/redeem', { token: 12345 }), 'token');
    expectValidation(await anonymous.post('/api/call-tokens/redeem', { token: minted.token, endpointId: w.endpointId }));
    // None of that consumed the real token.
    expectStatus(await redeem(minted.token), 200);
  });

  it('a token redeemed on another org cannot be read there, and the session names the minting org', async () => {
    const minted = await mintCallToken(other.backend, other.endpointId);
    const session = await redeem(minted.token);
    expect(session.body).toEqual({ sessionId: expect.stringMatching(UUID_PATTERN), endpointId: other.endpointId, orgId: other.orgId });
    expectError(await w.backend.get(`/api/call-tokens/${minted.id}`), 404, 'NOT_FOUND');
  });
});

describe('expiry (ManualClock)', () => {
  let clockApp: TestApp;
  let clock: ManualClock;
  let org: WebrtcOrg;

  beforeAll(async () => {
    clock = new ManualClock(nextMinute());
    clockApp = await startTestApp({ clock });
    org = await createWebrtcOrg(clockApp, 'Expiry Co');
  });

  afterAll(async () => {
    await clockApp?.close();
  });

  const redeemAt = (token: string) => client(clockApp.url).post('/api/call-tokens/redeem', { token });

  it('expiresAt is exactly now + ttl on the service clock', async () => {
    const start = clock.nowMs();
    const minted = await mintCallToken(org.backend, org.endpointId);
    expect(minted.expiresAt).toBe(new Date(start + 300_000).toISOString());
    const short = await mintCallToken(org.backend, org.endpointId, 30);
    expect(short.expiresAt).toBe(new Date(start + 30_000).toISOString());
    const state = await org.backend.get(`/api/call-tokens/${short.id}`);
    expect(state.body.createdAt).toBe(new Date(start).toISOString());
  });

  it('redeems until expiresAt, then 401 TOKEN_EXPIRED and status expired', async () => {
    const live = await mintCallToken(org.backend, org.endpointId, 30);
    const dead = await mintCallToken(org.backend, org.endpointId, 30);
    clock.advance(29_999);
    expectStatus(await redeemAt(live.token), 200);
    expect((await org.backend.get(`/api/call-tokens/${dead.id}`)).body.status).toBe('active');
    clock.advance(1);
    expectError(await redeemAt(dead.token), 401, 'TOKEN_EXPIRED');
    clock.advance(60_000);
    expectError(await redeemAt(dead.token), 401, 'TOKEN_EXPIRED');
    expect((await org.backend.get(`/api/call-tokens/${dead.id}`)).body).toEqual(expect.objectContaining({ status: 'expired', redeemedAt: null }));
    // A redeemed token stays redeemed (not expired) after its expiry; a second try still says redeemed.
    expect((await org.backend.get(`/api/call-tokens/${live.id}`)).body.status).toBe('redeemed');
    expectError(await redeemAt(live.token), 401, 'TOKEN_REDEEMED');
  });

  it('a revoked token stays revoked after its expiry', async () => {
    const minted = await mintCallToken(org.backend, org.endpointId, 30);
    expectStatus(await org.backend.delete(`/api/call-tokens/${minted.id}`), 204);
    clock.advance(31_000);
    expect((await org.backend.get(`/api/call-tokens/${minted.id}`)).body.status).toBe('revoked');
    expectError(await redeemAt(minted.token), 401, 'TOKEN_REVOKED');
  });

  it('the denied redemptions are audited with their codes', async () => {
    const entries = await allMintEntries(org.admin, 'provider=call-token&action=redeem&outcome=denied');
    const codes = entries.map((entry) => entry.code);
    expect(codes).toEqual(expect.arrayContaining(['TOKEN_EXPIRED', 'TOKEN_REDEEMED', 'TOKEN_REVOKED']));
  });
});

describe('concurrency', () => {
  it('50 concurrent redemptions of one token: exactly one 200, 49 × 401 TOKEN_REDEEMED, all audited', async () => {
    const minted = await mintCallToken(w.backend, w.endpointId);
    const label = requestId('race');
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => redeem(minted.token, anonymous, { 'x-request-id': `${label}-${i}` })));
    const ok = results.filter((result) => result.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0].body).toEqual({ sessionId: expect.stringMatching(UUID_PATTERN), endpointId: w.endpointId, orgId: w.orgId });
    const refused = results.filter((result) => result.status !== 200);
    expect(refused).toHaveLength(49);
    for (const result of refused) expectError(result, 401, 'TOKEN_REDEEMED');

    const rows = await app.db.query<{ session_id: string }>('SELECT session_id FROM call_tokens WHERE id = $1', [minted.id]);
    expect(rows).toEqual([{ session_id: ok[0].body.sessionId }]);
    const entries = (await allMintEntries(w.admin, 'provider=call-token&action=redeem')).filter((entry) => entry.requestId?.startsWith(label));
    expect(entries).toHaveLength(50);
    expect(entries.filter((entry) => entry.outcome === 'issued')).toHaveLength(1);
    expect(entries.filter((entry) => entry.outcome === 'denied' && entry.code === 'TOKEN_REDEEMED')).toHaveLength(49);
    for (const entry of entries) expect(entry.tokenFingerprint).toBe(fingerprintOf(minted.token));
  });

  it('redeem racing revoke: each token ends either redeemed (revoke 409) or revoked (redeem 401 TOKEN_REVOKED), never both', async () => {
    const tokens = await Promise.all(Array.from({ length: 15 }, () => mintCallToken(w.backend, w.endpointId)));
    const outcomes = await Promise.all(
      tokens.map(async (minted) => {
        const [redeemed, revoked] = await Promise.all([redeem(minted.token), w.backend.delete(`/api/call-tokens/${minted.id}`)]);
        const state = await w.backend.get(`/api/call-tokens/${minted.id}`);
        return { redeemed, revoked, status: state.body.status as string };
      }),
    );
    expectOneOfRedeemOrRevoke(outcomes);
  });

  it('concurrent mints give distinct tokens and ids', async () => {
    const minted = await Promise.all(Array.from({ length: 30 }, () => mintCallToken(w.backend, w.endpointId, 60)));
    expect(new Set(minted.map((m) => m.token)).size).toBe(30);
    expect(new Set(minted.map((m) => m.id)).size).toBe(30);
  });
});

describe('token storage', () => {
  it('tokens are mct_ + at least 128 random bits, distinct; the database keeps only their SHA-256', async () => {
    const minted = [] as Array<{ id: string; token: string }>;
    for (let i = 0; i < 20; i++) minted.push(await mintCallToken(w.backend, w.endpointId));
    const tokens = minted.map((m) => m.token);
    for (const token of tokens) {
      expect(token).toMatch(/^mct_[A-Za-z0-9_-]+$/);
      // base64url carries 6 bits a character: 22 characters hold ≥ 128 bits.
      expect(token.length - 4).toBeGreaterThanOrEqual(22);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
    // Not a counter or a timestamp: no two tokens share a long common prefix.
    for (let i = 1; i < tokens.length; i++) expect(tokens[i].slice(0, 12)).not.toBe(tokens[i - 1].slice(0, 12));

    // Redeem half so redemption state is in the rows too.
    for (const m of minted.slice(0, 10)) expectStatus(await redeem(m.token), 200);

    const rows = await app.db.query<{ id: string; token_hash: Buffer; row: string }>('SELECT t.id, t.token_hash, t::text AS row FROM call_tokens t');
    const audit = await app.db.query<{ row: string; token_fingerprint: string | null }>('SELECT a::text AS row, a.token_fingerprint FROM mint_audit a');
    const everything = [...rows.map((r) => r.row), ...audit.map((r) => r.row)].join('\n');
    for (const m of minted) {
      const body = m.token.slice(4);
      expect(everything).not.toContain(body);
      expect(everything).not.toContain(Buffer.from(body, 'base64url').toString('hex'));
      expect(everything).not.toContain(Buffer.from(m.token, 'utf8').toString('hex'));
      const row = rows.find((r) => r.id === m.id)!;
      expect(row.token_hash.equals(createHash('sha256').update(m.token, 'utf8').digest())).toBe(true);
      // The audit keeps a 16-hex fingerprint, nothing more.
      expect(audit.some((a) => a.token_fingerprint === fingerprintOf(m.token))).toBe(true);
    }
    // Nor in any other table, nor in the log.
    const tables = await app.db.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`);
    for (const { table_name } of tables) {
      const dump = (await app.db.query<{ row: string }>(`SELECT t::text AS row FROM public."${table_name}" t`)).map((r) => r.row).join('\n');
      for (const m of minted) expect({ table_name, leaked: dump.includes(m.token.slice(4)) }).toEqual({ table_name, leaked: false });
    }
    const logs = app.logs.join('');
    for (const m of minted) expect(logs.includes(m.token.slice(4))).toBe(false);
  });
});

describe('audit', () => {
  it('mint, redemption (issued and denied with code) and revocation are all in /api/audit/mints', async () => {
    const mintId = requestId('a-mint');
    const mintedResponse = await w.backend.post(
      '/api/call-tokens',
      { endpointId: w.endpointId, ttlSeconds: 120 },
      { headers: { 'x-request-id': mintId, 'user-agent': 'backend/2.0' } },
    );
    expectStatus(mintedResponse, 201);
    const minted = mintedResponse.body;
    const redeemId = requestId('a-redeem');
    expectStatus(await redeem(minted.token, anonymous, { 'x-request-id': redeemId, 'user-agent': 'browser-sdk/1.0' }), 200);
    const againId = requestId('a-again');
    expectError(await redeem(minted.token, anonymous, { 'x-request-id': againId }), 401, 'TOKEN_REDEEMED');

    const second = await mintCallToken(w.backend, w.endpointId);
    const revokeId = requestId('a-revoke');
    expectStatus(await w.backend.delete(`/api/call-tokens/${second.id}`, { headers: { 'x-request-id': revokeId } }), 204);
    const revokedRedeemId = requestId('a-revoked-redeem');
    expectError(await redeem(second.token, anonymous, { 'x-request-id': revokedRedeemId }), 401, 'TOKEN_REVOKED');
    const twiceId = requestId('a-revoke-twice');
    expectStatus(await w.backend.delete(`/api/call-tokens/${second.id}`, { headers: { 'x-request-id': twiceId } }), 204);

    const entries = await allMintEntries(w.admin, 'provider=call-token');
    const byRequest = (id: string) => entries.filter((entry) => entry.requestId === id);
    const actor = { kind: 'api_key', id: w.backendKey.id };
    const target = `endpoint:${w.endpointId}`;

    expect(byRequest(mintId)).toEqual([
      {
        id: expect.stringMatching(UUID_PATTERN),
        orgId: w.orgId,
        at: expect.stringMatching(ISO_PATTERN),
        provider: 'call-token',
        action: 'mint',
        actor,
        subjectUserId: null,
        target,
        outcome: 'issued',
        code: null,
        tokenFingerprint: fingerprintOf(minted.token),
        expiresAt: minted.expiresAt,
        ip: expect.any(String),
        userAgent: 'backend/2.0',
        requestId: mintId,
      },
    ]);
    const [redeemEntry] = byRequest(redeemId);
    expect(redeemEntry).toEqual(
      expect.objectContaining({ provider: 'call-token', action: 'redeem', outcome: 'issued', code: null, actor, target, userAgent: 'browser-sdk/1.0' }),
    );
    // The redemption is tied to its mint by the fingerprint.
    expect(redeemEntry.tokenFingerprint).toBe(byRequest(mintId)[0].tokenFingerprint);
    expect(byRequest(againId)).toEqual([
      expect.objectContaining({ action: 'redeem', outcome: 'denied', code: 'TOKEN_REDEEMED', tokenFingerprint: fingerprintOf(minted.token) }),
    ]);
    expect(byRequest(revokeId)).toEqual([expect.objectContaining({ provider: 'call-token', action: 'revoke', outcome: 'issued', actor, target })]);
    expect(byRequest(revokedRedeemId)).toEqual([
      expect.objectContaining({ action: 'redeem', outcome: 'denied', code: 'TOKEN_REVOKED', tokenFingerprint: fingerprintOf(second.token) }),
    ]);
    // A no-op second revocation writes no second revoke entry.
    expect(byRequest(twiceId)).toEqual([]);

    // The action filter.
    const revokes = await allMintEntries(w.admin, 'provider=call-token&action=revoke');
    expect(revokes.every((entry) => entry.action === 'revoke')).toBe(true);
    expect(revokes.map((entry) => entry.requestId)).toContain(revokeId);
    // Nothing anywhere holds the token.
    const audited = JSON.stringify(entries);
    expect(audited).not.toContain(minted.token.slice(4));
    expect(audited).not.toContain(second.token.slice(4));
  });

  it('refused mints are audited as denied: endpoint errors, MISSING_SCOPE and FEATURE_DISABLED at the guard', async () => {
    const notFoundId = requestId('d-notfound');
    await w.backend.post('/api/call-tokens', { endpointId: randomUUID() }, { headers: { 'x-request-id': notFoundId } });
    const phoneOnly = await createEndpoint(w.admin, 'Audit phone only', false);
    const notWebrtcId = requestId('d-notwebrtc');
    await w.backend.post('/api/call-tokens', { endpointId: phoneOnly }, { headers: { 'x-request-id': notWebrtcId } });
    const archived = await createEndpoint(w.admin, 'Audit archived');
    await w.admin.patch(`/api/endpoints/${archived}`, { state: 'archived' });
    const archivedId = requestId('d-archived');
    await w.backend.post('/api/call-tokens', { endpointId: archived }, { headers: { 'x-request-id': archivedId } });

    const noScope = await createApiKey(w.admin, ['READ_CALL_TOKEN']);
    const scopeId = requestId('d-scope');
    expectError(await client(app.url, noScope.token).post('/api/call-tokens', { endpointId: w.endpointId }, { headers: { 'x-request-id': scopeId } }), 403, 'MISSING_SCOPE');

    const flagOff = await createOrgWithAdmin(app, 'Audit Flag Off Co');
    const offKey = await createApiKey(flagOff.admin, ['CREATE_CALL_TOKEN', 'READ_CALL_TOKEN']);
    const offNoScope = await createApiKey(flagOff.admin, ['READ_AUDIT']);
    const flagId = requestId('d-flag');
    expectError(await client(app.url, offKey.token).post('/api/call-tokens', { endpointId: randomUUID() }, { headers: { 'x-request-id': flagId } }), 403, 'FEATURE_DISABLED');
    const flagNoScopeId = requestId('d-flag-noscope');
    expectError(
      await client(app.url, offNoScope.token).post('/api/call-tokens', { endpointId: randomUUID() }, { headers: { 'x-request-id': flagNoScopeId } }),
      403,
      'FEATURE_DISABLED',
    );

    const entries = await allMintEntries(w.admin, 'provider=call-token&outcome=denied');
    const one = (id: string) => entries.filter((entry) => entry.requestId === id);
    expect(one(notFoundId)).toEqual([expect.objectContaining({ action: 'mint', outcome: 'denied', code: 'ENDPOINT_NOT_FOUND', tokenFingerprint: null })]);
    expect(one(notWebrtcId)).toEqual([expect.objectContaining({ outcome: 'denied', code: 'ENDPOINT_NOT_WEBRTC', target: `endpoint:${phoneOnly}` })]);
    expect(one(archivedId)).toEqual([expect.objectContaining({ outcome: 'denied', code: 'ENDPOINT_ARCHIVED', target: `endpoint:${archived}` })]);
    expect(one(scopeId)).toEqual([
      expect.objectContaining({
        provider: 'call-token',
        action: 'mint',
        outcome: 'denied',
        code: 'MISSING_SCOPE',
        actor: { kind: 'api_key', id: noScope.id },
        tokenFingerprint: null,
      }),
    ]);

    const offEntries = await allMintEntries(flagOff.admin, 'provider=call-token');
    expect(offEntries.filter((entry) => entry.requestId === flagId)).toEqual([
      expect.objectContaining({
        orgId: flagOff.orgId,
        provider: 'call-token',
        action: 'mint',
        outcome: 'denied',
        code: 'FEATURE_DISABLED',
        actor: { kind: 'api_key', id: offKey.id },
      }),
    ]);
    expect(offEntries.filter((entry) => entry.requestId === flagNoScopeId)).toEqual([
      expect.objectContaining({ outcome: 'denied', code: 'FEATURE_DISABLED', actor: { kind: 'api_key', id: offNoScope.id } }),
    ]);
    // Nothing issued in the flag-off org.
    expect(offEntries.filter((entry) => entry.outcome === 'issued')).toEqual([]);
  });

  it("the org's audit chain verifies after all of this (mints, redemptions, revocations, refusals)", async () => {
    const verify = await w.admin.get('/api/audit/verify');
    expectStatus(verify, 200);
    expect(verify.body).toEqual(expect.objectContaining({ ok: true, firstBrokenId: null }));
    const entries = await allMintEntries(w.admin);
    expect(verify.body.checked).toBe(entries.length);
    expect(entries.length).toBeGreaterThan(100);
  });
});
