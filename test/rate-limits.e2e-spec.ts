import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { ManualClock } from '../libs/common/src/clock';
import { expectError, expectStatus, expectValidation } from './support/assertions';
import { createWebrtcOrg, mintCallToken, must, nextMinute, setOrg, SINCH_APP, startSecondInstance, WebrtcOrg } from './support/call-tokens';
import { client, Client, HttpResult } from './support/http';
import { allMintEntries, createApiKey } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Per-org mint rate limits (API.md, Minting: every mint of every provider counts against
 * limits.mintsPerMinute, 429 RATE_LIMITED with Retry-After past it) and API keys' maxRequestsPerDay.
 *
 * The limits count in fixed windows (one UTC minute; one UTC day) in a counter store: in memory by
 * default, which is per process, or in Redis with REDIS_URL, which every instance shares. These tests
 * run the service on a ManualClock set a little past the start of a minute, so windows never roll over
 * by accident and Retry-After is exact.
 */

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SINCH = '/api/calls/token/sinch';

/** A backend client minting both a call token and a Sinch token (API key: names the user with ?userId). */
interface MixedOrg extends WebrtcOrg {
  sinch(via?: Client): Promise<HttpResult>;
  callToken(via?: Client): Promise<HttpResult>;
}

async function mixedOrg(app: TestApp, name: string, mintsPerMinute?: number): Promise<MixedOrg> {
  const org = await createWebrtcOrg(app, name, { mintsPerMinute });
  must(await org.admin.put('/api/credentials/sinch-voice', SINCH_APP), 200, 'PUT sinch-voice');
  return {
    ...org,
    sinch: (via = org.backend) => via.get(`${SINCH}?userId=${org.adminId}`),
    callToken: (via = org.backend) => via.post('/api/call-tokens', { endpointId: org.endpointId }),
  };
}

function statuses(results: HttpResult[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const result of results) counts[result.status] = (counts[result.status] ?? 0) + 1;
  return counts;
}

// First in the file: ioredis keeps a connect timer of the unreachable server alive for a second or two after close.
describe('Redis unreachable', () => {
  it('fails closed: mints and quota-limited keys get 503 UNAVAILABLE, never unlimited access; the failure is audited', async () => {
    // The org is set up through a healthy instance; the second instance of the same deployment cannot reach Redis.
    const healthy = await startTestApp();
    const broken = await startSecondInstance(healthy, { config: { redisUrl: 'redis://127.0.0.1:1' } });
    try {
      const org = await mixedOrg(healthy, 'No Redis Co');
      const onBroken = client(broken.url, org.backendKey.token);
      const id = `no-redis-${randomBytes(4).toString('hex')}`;
      expectError(await onBroken.post('/api/call-tokens', { endpointId: org.endpointId }, { headers: { 'x-request-id': id } }), 503, 'UNAVAILABLE');
      expectError(await org.sinch(onBroken), 503, 'UNAVAILABLE');
      expectError(await org.sinch(client(broken.url, org.adminToken)), 503, 'UNAVAILABLE');
      expect(await healthy.db.query('SELECT id FROM call_tokens WHERE org_id = $1', [org.orgId])).toEqual([]);
      const entries = await allMintEntries(org.admin, 'provider=call-token');
      expect(entries.filter((entry) => entry.requestId === id)).toEqual([expect.objectContaining({ outcome: 'failed', code: 'UNAVAILABLE', tokenFingerprint: null })]);
      // A key with a daily quota cannot be counted, so it is not let through.
      const quota = await createApiKey(org.admin, ['READ_CALL_TOKEN'], { maxRequestsPerDay: 100 });
      expectError(await client(broken.url, quota.token).get('/api/auth/me'), 503, 'UNAVAILABLE');
      // Routes that count nothing keep working.
      expectStatus(await client(broken.url, org.adminToken).get('/api/endpoints'), 200);
      // Redemption counts nothing either.
      const minted = await mintCallToken(org.backend, org.endpointId);
      expectStatus(await client(broken.url).post('/api/call-tokens/redeem', { token: minted.token }), 200);
    } finally {
      await broken.close();
      await healthy.close();
    }
  });
});

describe('one instance (memory counters)', () => {
  let app: TestApp;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = new ManualClock(nextMinute(10_000));
    app = await startTestApp({ clock });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('the default limit is 600 mints a minute: the 601st is refused', async () => {
    const org = await createWebrtcOrg(app, 'Default Limit Co');
    expect((await org.operator.get(`/api/orgs/${org.orgId}`)).body.limits).toEqual({ mintsPerMinute: 600 });
    let issued = 0;
    for (let batch = 0; batch < 12; batch++) {
      const results = await Promise.all(Array.from({ length: 50 }, () => org.backend.post('/api/call-tokens', { endpointId: org.endpointId, ttlSeconds: 30 })));
      for (const result of results) expectStatus(result, 201);
      issued += results.length;
    }
    expect(issued).toBe(600);
    const refused = await org.backend.post('/api/call-tokens', { endpointId: org.endpointId });
    expectError(refused, 429, 'RATE_LIMITED');
    expect(refused.headers.get('retry-after')).toBe('50');
  });

  it('every mint of every provider counts against one limit: Sinch tokens and call tokens together', async () => {
    const org = await mixedOrg(app, 'Mixed Limit Co', 4);
    expectStatus(await org.sinch(), 200);
    expectStatus(await org.callToken(), 201);
    expectStatus(await org.sinch(), 200);
    expectStatus(await org.callToken(), 201);
    const sinchRefused = await org.sinch(org.admin); // a user principal counts against the same org limit
    expectError(sinchRefused, 429, 'RATE_LIMITED');
    expect(sinchRefused.headers.get('retry-after')).toBe('50');
    const callRefused = await org.callToken();
    expectError(callRefused, 429, 'RATE_LIMITED');
    expect(callRefused.headers.get('retry-after')).toBe('50');

    // The refusals are audited as denied RATE_LIMITED under their own providers.
    const denied = await allMintEntries(org.admin, 'outcome=denied');
    expect(
      denied
        .filter((entry) => entry.code === 'RATE_LIMITED')
        .map((entry) => entry.provider)
        .sort(),
    ).toEqual(['call-token', 'sinch']);
    const issued = await allMintEntries(org.admin, 'outcome=issued');
    expect(issued.map((entry) => entry.provider).sort()).toEqual(['call-token', 'call-token', 'sinch', 'sinch']);
  });

  it('the window resets at the next minute; Retry-After counts down to it', async () => {
    const org = await mixedOrg(app, 'Window Co', 2);
    const start = clock.nowMs();
    const offset = start % 60_000;
    expectStatus(await org.callToken(), 201);
    expectStatus(await org.sinch(), 200);
    const first = await org.callToken();
    expectError(first, 429, 'RATE_LIMITED');
    expect(first.headers.get('retry-after')).toBe(String((60_000 - offset) / 1000));

    clock.advance(60_000 - offset - 1000); // one second before the window ends
    const last = await org.sinch();
    expectError(last, 429, 'RATE_LIMITED');
    expect(last.headers.get('retry-after')).toBe('1');

    clock.advance(1000); // the new window
    expectStatus(await org.callToken(), 201);
    expectStatus(await org.sinch(), 200);
    const again = await org.callToken();
    expectError(again, 429, 'RATE_LIMITED');
    expect(again.headers.get('retry-after')).toBe('60');

    clock.advance(59_999);
    expectError(await org.callToken(), 429, 'RATE_LIMITED');
    clock.advance(1);
    expectStatus(await org.callToken(), 201);
    // Put the shared clock back into the middle of a minute for the following tests.
    clock.advance(10_000);
  });

  it('concurrent mints never overshoot the limit', async () => {
    const org = await mixedOrg(app, 'Concurrent Limit Co', 7);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? org.sinch() : org.callToken())));
    const ok = results.filter((result) => result.status === 200 || result.status === 201);
    expect(ok).toHaveLength(7);
    for (const result of results.filter((r) => r.status >= 400)) expectError(result, 429, 'RATE_LIMITED');
  });

  it('the limit is per org, and a changed limit applies at once', async () => {
    const busy = await mixedOrg(app, 'Busy Co', 1);
    const quiet = await mixedOrg(app, 'Quiet Co', 1);
    expectStatus(await busy.callToken(), 201);
    expectError(await busy.callToken(), 429, 'RATE_LIMITED');
    // Another org is not affected.
    expectStatus(await quiet.callToken(), 201);

    // Raised: the next mint in the same window goes through (the count so far still counts).
    await setOrg(busy, { limits: { mintsPerMinute: 4 } });
    expectStatus(await busy.callToken(), 201);
    expectStatus(await busy.sinch(), 200);
    expectError(await busy.callToken(), 429, 'RATE_LIMITED');
    // Lowered again: refused straight away.
    await setOrg(busy, { limits: { mintsPerMinute: 1 } });
    expectError(await busy.sinch(), 429, 'RATE_LIMITED');
  });

  it('limits.mintsPerMinute is validated and only the operator sets it', async () => {
    const org = await createWebrtcOrg(app, 'Limit Validation Co');
    for (const bad of [0, -1, 1.5, '10', 1_000_001, true]) {
      expectValidation(await org.operator.patch(`/api/orgs/${org.orgId}`, { limits: { mintsPerMinute: bad } }), 'limits.mintsPerMinute');
    }
    expectValidation(await org.operator.patch(`/api/orgs/${org.orgId}`, { limits: { mintsPerHour: 10 } }));
    const byAdmin = await org.admin.patch(`/api/orgs/${org.orgId}`, { limits: { mintsPerMinute: 1_000_000 } });
    expect(byAdmin.status).toBe(403);
    expect((await org.operator.get(`/api/orgs/${org.orgId}`)).body.limits).toEqual({ mintsPerMinute: 600 });
    const top = await org.operator.patch(`/api/orgs/${org.orgId}`, { limits: { mintsPerMinute: 1_000_000 } });
    expectStatus(top, 200);
    expect(top.body.limits).toEqual({ mintsPerMinute: 1_000_000 });
    const events = await org.admin.get('/api/audit/events?targetType=org&action=org.updated');
    expect(events.body.items).toContainEqual(expect.objectContaining({ details: { 'limits.mintsPerMinute': 1_000_000 } }));
  });

  it('requests refused before the mint (validation, scope, flag) do not use up the limit', async () => {
    const org = await mixedOrg(app, 'Refusals Co', 2);
    const noScope = await createApiKey(org.admin, ['READ_CALL_TOKEN']);
    for (let i = 0; i < 5; i++) {
      expectError(await client(app.url, noScope.token).post('/api/call-tokens', { endpointId: org.endpointId }), 403, 'MISSING_SCOPE');
      expectValidation(await org.backend.post('/api/call-tokens', { endpointId: org.endpointId, ttlSeconds: 5 }), 'ttlSeconds');
    }
    expectStatus(await org.callToken(), 201);
    expectStatus(await org.sinch(), 200);
    expectError(await org.callToken(), 429, 'RATE_LIMITED');
  });
});

describe('two instances on one database', () => {
  it('with the memory store each instance counts on its own (limit N: up to N per instance) — set REDIS_URL to share', async () => {
    const clock = new ManualClock(nextMinute(10_000));
    const a = await startTestApp({ clock });
    const b = await startSecondInstance(a, { clock });
    try {
      const org = await mixedOrg(a, `Memory Pair ${randomBytes(3).toString('hex')}`, 3);
      const onB = client(b.url, org.backendKey.token);
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? org.callToken() : org.callToken(onB))));
      // Documented behaviour without Redis: 3 on A plus 3 on B.
      expect(statuses(results)).toEqual({ 201: 6, 429: 6 });
      expectError(await org.sinch(), 429, 'RATE_LIMITED');
      expectError(await org.sinch(onB), 429, 'RATE_LIMITED');
    } finally {
      await b.close();
      await a.close();
    }
  });

  describe('with REDIS_URL (shared counters)', () => {
    let clock: ManualClock;
    let a: TestApp;
    let b: TestApp;

    beforeAll(async () => {
      clock = new ManualClock(nextMinute(10_000));
      a = await startTestApp({ clock, config: { redisUrl: REDIS_URL } });
      b = await startSecondInstance(a, { clock, config: { redisUrl: REDIS_URL } });
    });

    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    it('limit N: exactly N successes across both instances, every provider counted, then both refuse', async () => {
      const org = await mixedOrg(a, `Redis Pair ${randomBytes(3).toString('hex')}`, 5);
      const onB = client(b.url, org.backendKey.token);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const via = i % 2 ? onB : org.backend;
          return i % 4 < 2 ? org.callToken(via) : org.sinch(via);
        }),
      );
      const ok = results.filter((result) => result.status === 200 || result.status === 201);
      expect(ok).toHaveLength(5);
      const refused = results.filter((result) => result.status >= 400);
      expect(refused).toHaveLength(15);
      for (const result of refused) {
        expectError(result, 429, 'RATE_LIMITED');
        expect(result.headers.get('retry-after')).toBe('50');
      }
      expectError(await org.callToken(), 429, 'RATE_LIMITED');
      expectError(await org.sinch(onB), 429, 'RATE_LIMITED');

      // Both instances audit their refusals into the one log.
      const denied = (await allMintEntries(org.admin, 'outcome=denied')).filter((entry) => entry.code === 'RATE_LIMITED');
      expect(denied).toHaveLength(17);

      // The one count lives in Redis, and expires with its window.
      const redis = new Redis(REDIS_URL);
      try {
        const now = clock.nowMs();
        const key = `mintline:mints:${org.orgId}:${now - (now % 60_000)}`;
        expect(await redis.get(key)).toBe('22');
        const ttl = await redis.pttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(60_000 - (now % 60_000) + (now - Date.now()) + 1000);
      } finally {
        redis.disconnect();
      }
    });

    it('the shared window resets for both instances at the next minute', async () => {
      const org = await mixedOrg(a, `Redis Window ${randomBytes(3).toString('hex')}`, 2);
      const onB = client(b.url, org.backendKey.token);
      expectStatus(await org.callToken(), 201);
      expectStatus(await org.sinch(onB), 200);
      expectError(await org.callToken(onB), 429, 'RATE_LIMITED');
      expectError(await org.sinch(), 429, 'RATE_LIMITED');
      clock.advance(60_000);
      expectStatus(await org.callToken(onB), 201);
      expectStatus(await org.callToken(), 201);
      expectError(await org.sinch(), 429, 'RATE_LIMITED');
      expectError(await org.sinch(onB), 429, 'RATE_LIMITED');
    });

    it("an API key's maxRequestsPerDay is enforced across both instances (429 past it, every request counted)", async () => {
      const org = await mixedOrg(a, `Redis Quota ${randomBytes(3).toString('hex')}`);
      const key = await createApiKey(org.admin, ['CREATE_CALL_TOKEN', 'READ_CALL_TOKEN'], { maxRequestsPerDay: 6 });
      const onA = client(a.url, key.token);
      const onB = client(b.url, key.token);
      // Alternate instances and routes: 6 requests in all are allowed.
      expectStatus(await onA.get('/api/auth/me'), 200);
      expectStatus(await onB.get('/api/auth/me'), 200);
      expectStatus(await onA.post('/api/call-tokens', { endpointId: org.endpointId }), 201);
      expectStatus(await onB.get(`${SINCH}?userId=${org.adminId}`), 200);
      const more = await Promise.all([onA.get('/api/auth/me'), onB.get('/api/auth/me'), onA.get('/api/auth/me'), onB.get('/api/auth/me')]);
      expect(statuses(more)).toEqual({ 200: 2, 429: 2 });
      for (const result of more.filter((r) => r.status === 429)) expectError(result, 429, 'RATE_LIMITED');
      const refusedA = await onA.get('/api/auth/me');
      const refusedB = await onB.post('/api/call-tokens', { endpointId: org.endpointId });
      expectError(refusedA, 429, 'RATE_LIMITED');
      expectError(refusedB, 429, 'RATE_LIMITED');
      // Retry-After points at the next UTC midnight on the service clock.
      const now = clock.nowMs();
      const untilMidnight = Math.ceil((86_400_000 - (now % 86_400_000)) / 1000);
      expect(Number(refusedA.headers.get('retry-after'))).toBe(untilMidnight);
      // The org's other key is untouched.
      expectStatus(await org.callToken(client(b.url, org.backendKey.token)), 201);

      // The next UTC day starts a new allowance on both instances.
      clock.advance(untilMidnight * 1000);
      expectStatus(await onB.get('/api/auth/me'), 200);
      expectStatus(await onA.get('/api/auth/me'), 200);
      // Back to the middle of a minute for any later test.
      clock.advance(10_000);
    });
  });
});
