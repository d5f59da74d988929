import { randomBytes } from 'node:crypto';
import { expectError, expectStatus, UUID_PATTERN } from './support/assertions';
import { createEndpoint, createWebrtcOrg, expectOneOfRedeemOrRevoke, mintCallToken, setOrg, startSecondInstance, WebrtcOrg } from './support/call-tokens';
import { client, Client, HttpResult } from './support/http';
import { allMintEntries, createApiKey, fingerprintOf } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Two instances of the service on one database (as behind a load balancer): call tokens are single-use
 * across instances, state changes made through one are seen by the other at once, and the audit log
 * they both write stays one consistent chain. Rate-limit sharing across instances is in rate-limits.e2e-spec.ts.
 */

let a: TestApp;
let b: TestApp;
let org: WebrtcOrg;
/** The backend key's client on instance B (org.backend is on A). */
let backendB: Client;

beforeAll(async () => {
  a = await startTestApp();
  b = await startSecondInstance(a);
  org = await createWebrtcOrg(a, 'Scale Out Co');
  backendB = client(b.url, org.backendKey.token);
});

afterAll(async () => {
  await b?.close();
  await a?.close();
});

const STRICT_TRIES = 50;

/** Repeats `request` until `done` holds of its answer or 3 s pass; returns the last answer. */
async function eventually(request: () => Promise<HttpResult>, done: (result: HttpResult) => boolean): Promise<HttpResult> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const result = await request();
    if (done(result) || Date.now() > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const redeemOn = (app: TestApp, token: string, headers: Record<string, string> = {}) => client(app.url).post('/api/call-tokens/redeem', { token }, { headers });

describe('call tokens across two instances', () => {
  it('50 concurrent redemptions split between the instances: exactly one 200, 49 × 401 TOKEN_REDEEMED', async () => {
    for (let round = 0; round < 3; round++) {
      const minted = await mintCallToken(round % 2 ? backendB : org.backend, org.endpointId);
      const label = `split-${round}-${randomBytes(4).toString('hex')}`;
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => redeemOn(i % 2 ? b : a, minted.token, { 'x-request-id': `${label}-${i}` })));
      const ok = results.filter((result) => result.status === 200);
      expect(ok).toHaveLength(1);
      expect(ok[0].body).toEqual({ sessionId: expect.stringMatching(UUID_PATTERN), endpointId: org.endpointId, orgId: org.orgId });
      const refused = results.filter((result) => result.status !== 200);
      expect(refused).toHaveLength(49);
      for (const result of refused) expectError(result, 401, 'TOKEN_REDEEMED');

      // Both instances agree on the state, and every attempt is in the one audit log.
      for (const backend of [org.backend, backendB]) {
        const state = await backend.get(`/api/call-tokens/${minted.id}`);
        expect(state.body).toEqual(expect.objectContaining({ status: 'redeemed', redeemedAt: expect.any(String) }));
      }
      const entries = (await allMintEntries(org.admin, 'provider=call-token&action=redeem')).filter((entry) => entry.requestId?.startsWith(label));
      expect(entries).toHaveLength(50);
      expect(entries.filter((entry) => entry.outcome === 'issued')).toHaveLength(1);
      for (const entry of entries) expect(entry.tokenFingerprint).toBe(fingerprintOf(minted.token));
    }
  });

  it('many tokens redeemed concurrently on both instances: each exactly once', async () => {
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => mintCallToken(i % 2 ? backendB : org.backend, org.endpointId)));
    const results = await Promise.all(tokens.flatMap((minted) => Array.from({ length: 6 }, (_, i) => redeemOn(i % 2 ? b : a, minted.token).then((r) => ({ minted, r })))));
    for (const minted of tokens) {
      const mine = results.filter((result) => result.minted === minted).map((result) => result.r);
      expect(mine.filter((r) => r.status === 200)).toHaveLength(1);
      for (const r of mine.filter((x) => x.status !== 200)) expectError(r, 401, 'TOKEN_REDEEMED');
    }
    const sessions = results.filter((result) => result.r.status === 200).map((result) => result.r.body.sessionId);
    expect(new Set(sessions).size).toBe(10);
  });

  it('minted on A, redeemed on B; revoked on B, refused on A; the minter is the same key on both', async () => {
    const first = await mintCallToken(org.backend, org.endpointId);
    const session = await redeemOn(b, first.token);
    expectStatus(session, 200);
    expectError(await redeemOn(a, first.token), 401, 'TOKEN_REDEEMED');
    expectError(await org.backend.delete(`/api/call-tokens/${first.id}`), 409, 'TOKEN_REDEEMED');

    const second = await mintCallToken(org.backend, org.endpointId);
    expectStatus(await backendB.delete(`/api/call-tokens/${second.id}`), 204);
    expectError(await redeemOn(a, second.token), 401, 'TOKEN_REVOKED');
    expect((await org.backend.get(`/api/call-tokens/${second.id}`)).body).toEqual(
      expect.objectContaining({ status: 'revoked', mintedBy: { kind: 'api_key', id: org.backendKey.id } }),
    );
    expectStatus(await org.backend.delete(`/api/call-tokens/${second.id}`), 204);
  });

  it('redeem on one instance racing revoke on the other: never both', async () => {
    const tokens = await Promise.all(Array.from({ length: 12 }, () => mintCallToken(org.backend, org.endpointId)));
    const outcomes = await Promise.all(
      tokens.map(async (minted, i) => {
        const [redeemApp, revoker] = i % 2 ? [a, backendB] : [b, org.backend];
        const [redeemed, revoked] = await Promise.all([redeemOn(redeemApp, minted.token), revoker.delete(`/api/call-tokens/${minted.id}`)]);
        return { redeemed, revoked, status: (await org.backend.get(`/api/call-tokens/${minted.id}`)).body.status as string };
      }),
    );
    expectOneOfRedeemOrRevoke(outcomes);
  });
});

describe('shared state is seen at once by the other instance', () => {
  it('a user access token from A works on B', async () => {
    const me = await client(b.url, org.adminToken).get('/api/auth/me');
    expectStatus(me, 200);
    expect(me.body).toEqual(expect.objectContaining({ kind: 'user', orgId: org.orgId, userId: org.adminId }));
  });

  it('the webrtc flag switched through A applies on B (redemption and minting at once)', async () => {
    const fresh = await createWebrtcOrg(a, 'Flag Flip Co');
    const onB = client(b.url, fresh.backendKey.token);
    const minted = await mintCallToken(onB, fresh.endpointId); // B has now read (and cached) the flag
    await setOrg(fresh, { features: { webrtc: false } });
    // Redemption reads the flag in its one UPDATE: refused on B from the very next request.
    expectError(await redeemOn(b, minted.token), 401, 'TOKEN_INVALID');
    // Minting reads B's cached org settings, refreshed by the cross-instance invalidation.
    expectError(
      await eventually(
        () => onB.post('/api/call-tokens', { endpointId: fresh.endpointId }),
        (r) => r.status === 403,
      ),
      403,
      'FEATURE_DISABLED',
    );
    const operatorB = client(b.url, b.operatorToken);
    expectStatus(await operatorB.patch(`/api/orgs/${fresh.orgId}`, { features: { webrtc: true } }), 200);
    expectStatus(
      await eventually(
        () => fresh.backend.post('/api/call-tokens', { endpointId: fresh.endpointId }),
        (r) => r.status === 201,
      ),
      201,
    );
    expectStatus(await redeemOn(a, minted.token), 200);
  });

  /*
   * Org settings and API keys are cached per instance. A change made through A must be seen by the very
   * next request on B (API.md: a deleted key is "refused from the next request on"); LISTEN/NOTIFY alone
   * reaches B a moment later, so B reads the cache epochs before using its caches. Each test repeats the
   * race many times, since one try may or may not hit it.
   */
  it('the flag switched off through A refuses minting on B from the very next request', async () => {
    const fresh = await createWebrtcOrg(a, 'Strict Flag Co');
    const onB = client(b.url, fresh.backendKey.token);
    const stale: number[] = [];
    for (let i = 0; i < STRICT_TRIES; i++) {
      expectStatus(
        await eventually(
          () => onB.post('/api/call-tokens', { endpointId: fresh.endpointId, ttlSeconds: 30 }),
          (r) => r.status === 201,
        ),
        201,
      );
      await setOrg(fresh, { features: { webrtc: false } });
      const refused = await onB.post('/api/call-tokens', { endpointId: fresh.endpointId, ttlSeconds: 30 });
      if (refused.status !== 403) stale.push(refused.status);
      await setOrg(fresh, { features: { webrtc: true } });
    }
    expect(stale).toEqual([]);
  }, 180_000);

  it('an API key deleted through A is refused on B from the very next request', async () => {
    const stale: number[] = [];
    for (let i = 0; i < STRICT_TRIES; i++) {
      const key = await createApiKey(org.admin, ['READ_CALL_TOKEN']);
      expectStatus(await client(b.url, key.token).get('/api/auth/me'), 200); // cached on B
      expectStatus(await org.admin.delete(`/api/api-keys/${key.id}`), 204);
      const after = await client(b.url, key.token).get('/api/auth/me');
      if (after.status !== 401) stale.push(after.status);
    }
    expect(stale).toEqual([]);
  }, 180_000);

  // A mint does not read the cache epochs before it authenticates: the statement that commits its audit
  // entry compares them, and a mint whose caches moved is checked again from fresh ones.
  it('an API key deleted through A is refused for a mint on B from the very next request, and the refused mint issues nothing', async () => {
    const fresh = await createWebrtcOrg(a, 'Strict Key Co');
    const stale: number[] = [];
    for (let i = 0; i < STRICT_TRIES; i++) {
      const key = await createApiKey(fresh.admin, ['CREATE_CALL_TOKEN']);
      const onB = client(b.url, key.token);
      expectStatus(await onB.post('/api/call-tokens', { endpointId: fresh.endpointId, ttlSeconds: 30 }), 201); // cached on B
      expectStatus(await fresh.admin.delete(`/api/api-keys/${key.id}`), 204);
      const after = await onB.post('/api/call-tokens', { endpointId: fresh.endpointId, ttlSeconds: 30 });
      if (after.status !== 401) stale.push(after.status);
    }
    expect(stale).toEqual([]);
    // Exactly one usable token (and one issued audit entry) per key: the one minted before its deletion.
    const rows = await a.db.query<{ n: number }>('SELECT count(*)::int AS n FROM call_tokens WHERE org_id = $1 AND revoked_at IS NULL', [fresh.orgId]);
    expect(rows[0].n).toBe(STRICT_TRIES);
    const issued = await a.db.query<{ n: number }>("SELECT count(*)::int AS n FROM mint_audit WHERE org_id = $1 AND outcome = 'issued'", [fresh.orgId]);
    expect(issued[0].n).toBe(STRICT_TRIES);
  }, 180_000);

  it('an endpoint archived through B refuses mints on A (409) and redemptions on both', async () => {
    const endpointId = await createEndpoint(org.admin, 'Scale archive');
    const minted = await mintCallToken(org.backend, endpointId);
    const adminB = client(b.url, org.adminToken);
    expectStatus(await adminB.patch(`/api/endpoints/${endpointId}`, { state: 'archived' }), 200);
    expectError(await org.backend.post('/api/call-tokens', { endpointId }), 409, 'ENDPOINT_ARCHIVED');
    expectError(await redeemOn(a, minted.token), 401, 'TOKEN_INVALID');
    expectError(await redeemOn(b, minted.token), 401, 'TOKEN_INVALID');
    expect((await org.admin.get(`/api/endpoints/${endpointId}`)).body.state).toBe('archived');
  });
});

describe('the audit log both instances write', () => {
  it('concurrent mints on both instances: distinct tokens, every one audited, one unbroken hash chain', async () => {
    const fresh = await createWebrtcOrg(a, 'Chain Co');
    const onB = client(b.url, fresh.backendKey.token);
    const results: HttpResult[] = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? onB : fresh.backend).post('/api/call-tokens', { endpointId: fresh.endpointId, ttlSeconds: 60 })),
    );
    for (const result of results) expectStatus(result, 201);
    const tokens = results.map((result) => result.body.token as string);
    expect(new Set(tokens).size).toBe(40);
    // Redeem half, alternating instances, concurrently.
    await Promise.all(tokens.slice(0, 20).map((token, i) => redeemOn(i % 2 ? a : b, token)));

    const entries = await allMintEntries(fresh.admin, 'provider=call-token');
    const mints = entries.filter((entry) => entry.action === 'mint' && entry.outcome === 'issued');
    expect(mints.map((entry) => entry.tokenFingerprint).sort()).toEqual(tokens.map(fingerprintOf).sort());
    expect(entries.filter((entry) => entry.action === 'redeem' && entry.outcome === 'issued')).toHaveLength(20);

    // The chain, read straight from the database: seq 1..n without gaps, each entry linked to the one before.
    const rows = await a.db.query<{ seq: string; prev_hash: Buffer; hash: Buffer }>(
      'SELECT m.seq::text AS seq, m.prev_hash, m.hash FROM mint_audit m WHERE m.org_id = $1 ORDER BY m.seq',
      [fresh.orgId],
    );
    expect(rows).toHaveLength(entries.length);
    rows.forEach((row, i) => {
      expect(Number(row.seq)).toBe(i + 1);
      if (i > 0) expect(row.prev_hash.equals(rows[i - 1].hash)).toBe(true);
    });
    const [head] = await a.db.query<{ seq: string; hash: Buffer }>('SELECT seq::text AS seq, hash FROM audit_chain_heads WHERE org_id = $1', [fresh.orgId]);
    expect(Number(head.seq)).toBe(rows.length);
    expect(head.hash.equals(rows[rows.length - 1].hash)).toBe(true);

    // And the service's own verification agrees, on either instance.
    for (const app of [a, b]) {
      const verify = await client(app.url, fresh.adminToken).get('/api/audit/verify');
      expectStatus(verify, 200);
      expect(verify.body).toEqual(expect.objectContaining({ ok: true, checked: rows.length, firstBrokenId: null }));
    }
  });
});
