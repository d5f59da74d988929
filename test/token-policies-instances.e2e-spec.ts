import { InvalidationBus } from '../libs/common/src/cache/invalidation-bus';
import { expectError, expectStatus } from './support/assertions';
import { startSecondInstance } from './support/call-tokens';
import { createOrgWithAdmin, createUser, OrgFixture } from './support/fixtures';
import { client, Client } from './support/http';
import { createApiKey, twilioCredentials } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Token policies on two instances of the service on one database, sharing Redis (as behind a load
 * balancer): a policy changed through A judges the very next mint on B, which had cached the policy
 * before (its cache is kept fresh by the cache epochs folded into the mint's audit statement, and by
 * LISTEN/NOTIFY). Each case is repeated, since one try may or may not hit the race.
 */

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TRIES = 30;
const TWILIO = '/api/calls/token/twilio';
/** How long each policy stands in the race test. */
const PAUSE_MS = 200;

let a: TestApp;
let b: TestApp;
let org: OrgFixture;
/** The agent on instance B. */
let agentB: Client;
/** A backend key on instance B, minting for the agent. */
let backendB: Client;
let agentId: string;

beforeAll(async () => {
  a = await startTestApp({ config: { redisUrl: REDIS_URL } });
  b = await startSecondInstance(a, { config: { redisUrl: REDIS_URL } });
  org = await createOrgWithAdmin(a, 'Policy Pair Co');
  expectStatus(await org.operator.patch(`/api/orgs/${org.orgId}`, { limits: { mintsPerMinute: 100_000 } }), 200);
  expectStatus(await org.admin.put('/api/credentials/twilio', twilioCredentials()), 200);
  const agent = await createUser(a, org, 'agent');
  agentId = agent.id;
  agentB = client(b.url, agent.token);
  backendB = client(b.url, (await createApiKey(org.admin, ['CREATE_CALL_TOKEN'])).token);
});

afterAll(async () => {
  await b?.close();
  await a?.close();
});

describe('a policy changed through A, and the next mint on B', () => {
  it('PUT on A refuses the very next mint on B; DELETE on A lets the very next one through', async () => {
    const stale: string[] = [];
    for (let i = 0; i < TRIES; i++) {
      const minter = i % 2 ? agentB : backendB;
      const path = i % 2 ? TWILIO : `${TWILIO}?userId=${agentId}`;
      // B has read (and cached) "no policy".
      expectStatus(await minter.get(path), 200);
      expectStatus(await org.admin.put('/api/policies/twilio', { roles: ['admin'] }), 200);
      const refused = await minter.get(path);
      if (refused.status !== 403) stale.push(`try ${i}: ${refused.status} after PUT`);
      else expectError(refused, 403, 'POLICY_DENIED');
      expectStatus(await org.admin.delete('/api/policies/twilio'), 204);
      const allowed = await minter.get(path);
      if (allowed.status !== 200) stale.push(`try ${i}: ${allowed.status} after DELETE`);
    }
    expect(stale).toEqual([]);
  }, 180_000);

  it('holds when B never hears of the change (its policy notifications dropped): the cache epochs alone keep it right', async () => {
    // LISTEN/NOTIFY is the prompt path, not the correct one: without it, B's cached policy stays until
    // the statement that commits a mint's audit entry finds the policy epoch moved and the mint is judged again.
    const listeners = (b.app.get(InvalidationBus) as unknown as { listeners: Map<string, Array<(key: string) => void>> }).listeners;
    const prompt = listeners.get('policy') ?? [];
    expect(prompt.length).toBeGreaterThan(0);
    listeners.set('policy', []);
    try {
      const stale: string[] = [];
      for (let i = 0; i < 10; i++) {
        expectStatus(await agentB.get(TWILIO), 200);
        expectStatus(await org.admin.put('/api/policies/twilio', { roles: ['admin'] }), 200);
        const refused = await agentB.get(TWILIO);
        if (refused.status !== 403) stale.push(`try ${i}: ${refused.status} after PUT`);
        expectStatus(await org.admin.delete('/api/policies/twilio'), 204);
        const allowed = await agentB.get(TWILIO);
        if (allowed.status !== 200) stale.push(`try ${i}: ${allowed.status} after DELETE`);
      }
      expect(stale).toEqual([]);
    } finally {
      listeners.set('policy', prompt);
    }
  }, 180_000);

  it("a lifetime cap changed through A is the next token's lifetime on B", async () => {
    const stale: string[] = [];
    for (let i = 0; i < TRIES; i++) {
      const cap = 60 + i;
      expectStatus(await org.admin.put('/api/policies/twilio', { maxTtlSeconds: cap }), 200);
      const minted = await agentB.get(TWILIO);
      expectStatus(minted, 200);
      if (minted.body.expiresIn !== cap) stale.push(`try ${i}: expiresIn ${minted.body.expiresIn}, cap ${cap}`);
    }
    expectStatus(await org.admin.delete('/api/policies/twilio'), 204);
    expect(stale).toEqual([]);
  }, 180_000);

  it('mints racing policy changes: every mint begun after a change was answered is judged by it, and no refused mint was issued', async () => {
    type Mint = { startedAt: number; endedAt: number; status: number; requestId: string };
    const mints: Mint[] = [];
    const changes: Array<{ answeredAt: number; policy: 'strict' | 'none' }> = [];
    let running = true;
    let counter = 0;
    const minter = async () => {
      while (running) {
        const requestId = `race-${counter++}`;
        const startedAt = performance.now();
        const response = await agentB.get(TWILIO, { headers: { 'x-request-id': requestId } });
        mints.push({ startedAt, endedAt: performance.now(), status: response.status, requestId });
      }
    };
    const minters = [minter(), minter(), minter()];
    for (let i = 0; i < 10; i++) {
      expectStatus(await org.admin.put('/api/policies/twilio', { roles: ['admin'] }), 200);
      changes.push({ answeredAt: performance.now(), policy: 'strict' });
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      expectStatus(await org.admin.delete('/api/policies/twilio'), 204);
      changes.push({ answeredAt: performance.now(), policy: 'none' });
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
    running = false;
    await Promise.all(minters);

    // A mint that began after a change was answered, and ended before the next change was sent (at least
    // PAUSE_MS later), can only have been judged by that change.
    const judged: string[] = [];
    let checked = 0;
    for (const change of changes) {
      for (const mint of mints.filter((m) => m.startedAt > change.answeredAt && m.endedAt < change.answeredAt + PAUSE_MS)) {
        checked += 1;
        const expected = change.policy === 'strict' ? 403 : 200;
        if (mint.status !== expected) judged.push(`${mint.requestId}: ${mint.status}, expected ${expected}`);
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(judged).toEqual([]);

    // Every answer is in the audit log as it was answered: issued exactly for the 200s.
    const rows = await a.db.query<{ request_id: string; outcome: string; code: string | null }>(
      "SELECT request_id, outcome, code FROM mint_audit WHERE org_id = $1 AND request_id LIKE 'race-%'",
      [org.orgId],
    );
    const byRequest = new Map(rows.map((row) => [row.request_id, row]));
    for (const mint of mints) {
      const row = byRequest.get(mint.requestId);
      expect({ mint: mint.requestId, row: row && { outcome: row.outcome, code: row.code } }).toEqual({
        mint: mint.requestId,
        row: mint.status === 200 ? { outcome: 'issued', code: null } : { outcome: 'denied', code: 'POLICY_DENIED' },
      });
    }
  }, 180_000);
});
