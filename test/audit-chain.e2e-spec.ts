import { randomUUID } from 'node:crypto';
import { chainHash, ChainedContent } from '../libs/audit/src/mints/audit-chain';
import { ManualClock } from '../libs/common/src/clock';
import { allAuditPages } from './support/audit';
import { expectStatus, expectValidation, UUID_PATTERN } from './support/assertions';
import { createOrgWithAdmin, OrgFixture } from './support/fixtures';
import { client, Client } from './support/http';
import { createApiKey, putSinchVoice, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

/**
 * The mint audit's hash chain under load and under attack: group-committed concurrent mints (one org,
 * two orgs, two instances on one database) leave one gapless chain per org; the chain catches an edited,
 * removed or forged entry; the table is append-only; and paging by (at, seq) / (at, id) never skips or
 * repeats an entry even when a whole batch shares one timestamp (the clock here never moves by itself).
 */

const SINCH_PATH = '/api/calls/token/sinch';
const START = Date.UTC(2026, 5, 15, 12, 0, 0);
const PARTITION = 'mint_audit_p202606';

let clock: ManualClock;
let app: TestApp;
let a: OrgFixture;
let b: OrgFixture;
/** API keys of org A and B that may mint and read the audit. */
let keyA: Client;
let keyB: Client;

interface ChainRow {
  id: string;
  seq: string;
  at: Date;
}

async function chainOf(orgId: string): Promise<ChainRow[]> {
  return app.db.query<ChainRow>('SELECT id, seq, at FROM mint_audit WHERE org_id = $1 ORDER BY seq', [orgId]);
}

/** seq is exactly 1..n and `at` never goes backwards along the chain. */
function expectGapless(rows: ChainRow[], count: number): void {
  expect(rows.map((row) => Number(row.seq))).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  for (let i = 1; i < rows.length; i += 1) expect(rows[i].at.getTime()).toBeGreaterThanOrEqual(rows[i - 1].at.getTime());
}

async function verify(
  reader: Client,
): Promise<{ ok: boolean; checked: number; firstBrokenId: string | null; checkpoints: number; signedThroughSeq: number | null; unsignedTail: number; detail?: string }> {
  const response = await reader.get('/api/audit/verify');
  expectStatus(response, 200);
  return response.body;
}

async function expectVerified(reader: Client, checked: number): Promise<void> {
  const result = await verify(reader);
  const { checkpoints, signedThroughSeq, unsignedTail, ...rest } = result;
  expect(rest).toEqual({ ok: true, checked, firstBrokenId: null, ...(result.detail !== undefined ? { detail: expect.any(String) } : {}) });
  // Signed checkpoints are tested in audit-checkpoints.e2e-spec.ts; here the counts only add up (they may
  // trail the newest batch by the moment it takes to sign it).
  expect(unsignedTail).toBe(checked - (signedThroughSeq ?? 0));
  expect(checkpoints).toBeLessThanOrEqual(signedThroughSeq ?? 0);
}

async function mintMany(minter: Client, count: number, userId?: string): Promise<void> {
  const path = userId ? `${SINCH_PATH}?userId=${userId}` : SINCH_PATH;
  const responses = await Promise.all(Array.from({ length: count }, () => minter.get(path)));
  const failed = responses.filter((response) => response.status !== 200);
  if (failed.length > 0) throw new Error(`${failed.length} of ${count} mints failed, e.g. ${failed[0].status} ${failed[0].text}`);
}

beforeAll(async () => {
  clock = new ManualClock(START);
  app = await startTestApp({ clock });
  [a, b] = [await createOrgWithAdmin(app, 'Chain A'), await createOrgWithAdmin(app, 'Chain B')];
  for (const org of [a, b]) {
    const patched = await org.operator.patch(`/api/orgs/${org.orgId}`, { limits: { mintsPerMinute: 100_000 } });
    if (patched.status !== 200) throw new Error(`PATCH org failed: ${patched.text}`);
    await putSinchVoice(org.admin, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET);
  }
  keyA = client(app.url, (await createApiKey(a.admin, ['CREATE_CALL_TOKEN', 'READ_AUDIT'], 'chain key A')).token);
  keyB = client(app.url, (await createApiKey(b.admin, ['CREATE_CALL_TOKEN', 'READ_AUDIT'], 'chain key B')).token);
});

afterAll(async () => {
  await app?.db.query('ALTER TABLE mint_audit ENABLE TRIGGER USER').catch(() => undefined);
  await app?.close();
});

describe('concurrent mints', () => {
  it('100 concurrent mints of one org form one gapless chain that verifies', async () => {
    await expectVerified(keyA, 0);
    await mintMany(a.admin, 100);
    const rows = await chainOf(a.orgId);
    expectGapless(rows, 100);
    await expectVerified(keyA, 100);
    const [head] = await app.db.query<{ seq: string }>('SELECT seq FROM audit_chain_heads WHERE org_id = $1', [a.orgId]);
    expect(head.seq).toBe('100');
  });

  it('100 concurrent mints of two orgs interleaved: one chain per org, each gapless', async () => {
    await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? mintMany(a.admin, 1) : mintMany(keyB, 1, b.adminId))));
    expectGapless(await chainOf(a.orgId), 150);
    expectGapless(await chainOf(b.orgId), 50);
    await expectVerified(keyA, 150);
    await expectVerified(keyB, 50);
    // Each org's chain starts from the genesis on its own.
    const firsts = await app.db.query<{ org_id: string; prev_hash: Buffer }>('SELECT org_id, prev_hash FROM mint_audit WHERE seq = 1 AND org_id = ANY($1::uuid[])', [
      [a.orgId, b.orgId],
    ]);
    expect(firsts).toHaveLength(2);
    for (const first of firsts) expect(first.prev_hash).toEqual(Buffer.alloc(32));
  });

  it('verify answers ok while mints are being written', async () => {
    const before = (await chainOf(a.orgId)).length;
    const results: Array<{ ok: boolean; detail?: string }> = [];
    let done = false;
    const verifier = async () => {
      while (!done) results.push(await verify(keyA));
    };
    const verifying = Promise.all([verifier(), verifier(), verifier()]);
    try {
      for (let round = 0; round < 10; round += 1) await mintMany(a.admin, 10);
    } finally {
      done = true;
      await verifying;
    }
    expect(results.length).toBeGreaterThan(0);
    expect(results.filter((result) => !result.ok)).toEqual([]);
    await expectVerified(keyA, before + 100);
  });

  it('survives the database closing its idle long-read connections, and verifies again on new ones', async () => {
    const before = (await chainOf(a.orgId)).length;
    await expectVerified(keyA, before);
    const idleLongReads = () =>
      app.db.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'mintline-long-reads' AND state = 'idle'", [app.db.name]);
    const idle = await idleLongReads();
    expect(idle.length).toBeGreaterThan(0);
    // As a database restart or an administrator would: the server ends the connections the pool keeps idle.
    for (const { pid } of idle) await app.db.query('SELECT pg_terminate_backend($1)', [pid]);
    for (let i = 0; i < 50 && (await idleLongReads()).some((row) => idle.some((gone) => gone.pid === row.pid)); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expectVerified(keyA, before);
    expect(app.logs.join('')).toContain('an idle long-read connection was closed by the database');
  });

  it('two instances on one database minting for the same org at once keep one chain', async () => {
    // The second instance's clock runs a minute behind: `at` must still never go backwards along the chain.
    const behind = new ManualClock(START - 60_000);
    const second = await startTestApp({
      db: app.db,
      clock: behind,
      config: { masterKeys: app.config.masterKeys, jwtSecret: app.config.jwtSecret, operatorToken: app.operatorToken },
    });
    try {
      const before = (await chainOf(a.orgId)).length;
      const secondAdmin = client(second.url, a.adminToken);
      await Promise.all([mintMany(a.admin, 60), mintMany(secondAdmin, 60), mintMany(keyB, 20, b.adminId)]);
      const rows = await chainOf(a.orgId);
      expectGapless(rows, before + 120);
      await expectVerified(keyA, before + 120);
      await expectVerified(client(second.url, a.adminToken), before + 120);
      await expectVerified(keyB, 70);
    } finally {
      await second.close();
    }
  });
});

describe('paging entries that share one timestamp', () => {
  it('every entry exactly once, newest first, across pages of a small limit', async () => {
    // The clock has not moved yet: every entry so far shares one `at`, so only seq orders them.
    const sql = await app.db.query<{ id: string; at: Date }>('SELECT id, at FROM mint_audit WHERE org_id = $1 ORDER BY at DESC, seq DESC', [a.orgId]);
    expect(new Set(sql.map((row) => row.at.getTime())).size).toBe(1);
    expect(sql.length).toBeGreaterThan(300);
    const items = await allAuditPages(keyA, '/api/audit/mints', 7);
    expect(items.map((item) => item.id)).toEqual(sql.map((row) => row.id));
    expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
  });

  it('keeps the order when later batches move the clock on, also with a filter', async () => {
    clock.advance(1);
    await mintMany(a.admin, 5);
    clock.advance(1_000);
    await mintMany(keyA, 5, a.adminId);
    const sql = await app.db.query<{ id: string }>('SELECT id FROM mint_audit WHERE org_id = $1 ORDER BY at DESC, seq DESC', [a.orgId]);
    const items = await allAuditPages(keyA, '/api/audit/mints', 13);
    expect(items.map((item) => item.id)).toEqual(sql.map((row) => row.id));
    // Newest first by time too.
    for (let i = 1; i < items.length; i += 1) expect(Date.parse(items[i].at)).toBeLessThanOrEqual(Date.parse(items[i - 1].at));
    const byAdmin = await app.db.query<{ id: string }>('SELECT id FROM mint_audit WHERE org_id = $1 AND actor_id = $2 ORDER BY at DESC, seq DESC', [a.orgId, a.adminId]);
    const filtered = await allAuditPages(keyA, `/api/audit/mints?actorId=${a.adminId}`, 11);
    expect(filtered.map((item) => item.id)).toEqual(byAdmin.map((row) => row.id));
    expectGapless(await chainOf(a.orgId), sql.length);
  });
});

describe('tamper evidence', () => {
  let rows: Array<Record<string, any>>;
  let count: number;

  const restoreRow = async (row: Record<string, any>) => {
    const columns = Object.keys(row);
    await app.db.query(
      `INSERT INTO mint_audit (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
      columns.map((column) => row[column]),
    );
  };

  beforeAll(async () => {
    rows = await app.db.query('SELECT * FROM mint_audit WHERE org_id = $1 ORDER BY seq', [a.orgId]);
    count = rows.length;
    await expectVerified(keyA, count);
    await app.db.query('ALTER TABLE mint_audit DISABLE TRIGGER USER');
  });

  afterAll(async () => {
    await app.db.query('ALTER TABLE mint_audit ENABLE TRIGGER USER');
  });

  afterEach(async () => {
    // Each case undoes its damage: the chain verifies again.
    await expectVerified(keyA, count);
  });

  it.each([
    ['user_agent', () => "'; DROP TABLE x; --"],
    ['outcome', () => 'denied'],
    ['token_fingerprint', () => 'ffffffffffffffff'],
    ['subject_user_id', () => randomUUID()],
    ['actor_id', () => 'someone-else'],
    ['ip', () => null],
    ['expires_at', (row: Record<string, any>) => new Date(row.expires_at.getTime() + 3_600_000)],
    ['at', (row: Record<string, any>) => new Date(row.at.getTime() + 1)],
    ['hash', () => Buffer.alloc(32, 7)],
  ])('an edited %s of a middle entry breaks the chain at that entry; restoring it mends it', async (column, value) => {
    const victim = rows[Math.floor(count / 2)];
    await app.db.query(`UPDATE mint_audit SET ${column} = $1 WHERE org_id = $2 AND id = $3`, [(value as (row: Record<string, any>) => unknown)(victim), a.orgId, victim.id]);
    const result = await verify(keyA);
    expect(result).toMatchObject({ ok: false, firstBrokenId: victim.id });
    expect(result.checked).toBe(Number(victim.seq) - 1);
    await app.db.query(`UPDATE mint_audit SET ${column} = $1 WHERE org_id = $2 AND id = $3`, [victim[column], a.orgId, victim.id]);
    // The other org is not affected at any time.
    expect((await verify(keyB)).ok).toBe(true);
  });

  it('a deleted middle entry breaks the chain at the entry after it', async () => {
    const victim = rows[Math.floor(count / 3)];
    const next = rows[Math.floor(count / 3) + 1];
    await app.db.query('DELETE FROM mint_audit WHERE org_id = $1 AND id = $2', [a.orgId, victim.id]);
    expect(await verify(keyA)).toMatchObject({ ok: false, firstBrokenId: next.id, checked: Number(victim.seq) - 1 });
    await restoreRow(victim);
  });

  it('a deleted first entry breaks the chain at the second', async () => {
    await app.db.query('DELETE FROM mint_audit WHERE org_id = $1 AND id = $2', [a.orgId, rows[0].id]);
    expect(await verify(keyA)).toMatchObject({ ok: false, firstBrokenId: rows[1].id, checked: 0 });
    await restoreRow(rows[0]);
  });

  it('deleting the newest entry, or the two newest, is caught by the chain head', async () => {
    const newest = rows[count - 1];
    const second = rows[count - 2];
    await app.db.query('DELETE FROM mint_audit WHERE org_id = $1 AND id = $2', [a.orgId, newest.id]);
    expect(await verify(keyA)).toMatchObject({ ok: false, firstBrokenId: null, checked: count - 1 });
    await app.db.query('DELETE FROM mint_audit WHERE org_id = $1 AND id = $2', [a.orgId, second.id]);
    expect(await verify(keyA)).toMatchObject({ ok: false, firstBrokenId: null, checked: count - 2 });
    await restoreRow(second);
    await restoreRow(newest);
  });

  it('deleting every entry is caught by the chain head', async () => {
    await app.db.query('CREATE TEMP TABLE saved_chain AS SELECT * FROM mint_audit WHERE org_id = $1', [a.orgId]);
    await app.db.query('DELETE FROM mint_audit WHERE org_id = $1', [a.orgId]);
    expect(await verify(keyA)).toMatchObject({ ok: false, checked: 0 });
    await app.db.query('INSERT INTO mint_audit SELECT * FROM saved_chain');
    await app.db.query('DROP TABLE saved_chain');
  });

  /** A forged entry hashed correctly from the given predecessor (the algorithm is public). */
  const forge = (seq: number, previous: Record<string, any>, at: Date): Record<string, any> => {
    const content: ChainedContent = {
      id: randomUUID(),
      orgId: a.orgId,
      seq,
      at,
      provider: 'sinch',
      action: 'mint',
      actorKind: 'user',
      actorId: a.adminId,
      subjectUserId: a.adminId,
      target: `sinch:${SINCH_EXAMPLE_KEY}`,
      outcome: 'issued',
      code: null,
      tokenFingerprint: '0123456789abcdef',
      expiresAt: new Date(at.getTime() + 600_000),
      ip: '127.0.0.1',
      userAgent: 'forger',
      requestId: 'forged',
    };
    return {
      id: content.id,
      org_id: content.orgId,
      seq: String(seq),
      at,
      provider: content.provider,
      action: content.action,
      actor_kind: content.actorKind,
      actor_id: content.actorId,
      subject_user_id: content.subjectUserId,
      target: content.target,
      outcome: content.outcome,
      code: content.code,
      token_fingerprint: content.tokenFingerprint,
      expires_at: content.expiresAt,
      ip: content.ip,
      user_agent: content.userAgent,
      request_id: content.requestId,
      prev_hash: previous.hash,
      hash: chainHash(previous.hash, content),
    };
  };

  it('a forged entry appended after the newest is caught (the chain head does not name it)', async () => {
    const newest = rows[count - 1];
    const forged = forge(count + 1, newest, new Date(newest.at.getTime() + 1));
    await restoreRow(forged);
    try {
      expect(await verify(keyA)).toMatchObject({ ok: false });
    } finally {
      await app.db.query('DELETE FROM mint_audit WHERE id = $1', [forged.id]);
    }
  });

  it('a forged entry slipped into the middle is caught', async () => {
    const middle = Math.floor(count / 2);
    const forged = forge(middle + 1, rows[middle - 1], new Date(rows[middle].at.getTime() + 1));
    await restoreRow(forged);
    try {
      const result = await verify(keyA);
      expect(result.ok).toBe(false);
      expect([forged.id, rows[middle].id, rows[middle + 1].id]).toContain(result.firstBrokenId);
    } finally {
      await app.db.query('DELETE FROM mint_audit WHERE id = $1', [forged.id]);
    }
  });

  it('an entry moved to another org breaks both chains', async () => {
    // Org B's chain is shorter, so the moved entry's seq is free there.
    const victim = rows[100];
    await app.db.query('UPDATE mint_audit SET org_id = $1 WHERE id = $2', [b.orgId, victim.id]);
    try {
      expect(await verify(keyA)).toMatchObject({ ok: false, firstBrokenId: rows[101].id });
      expect((await verify(keyB)).ok).toBe(false);
    } finally {
      await app.db.query('UPDATE mint_audit SET org_id = $1 WHERE id = $2', [a.orgId, victim.id]);
    }
  });
});

describe('append-only', () => {
  const refused = async (sql: string) => {
    await expect(app.db.query(sql)).rejects.toThrow(/append-only/);
  };

  it('refuses UPDATE, DELETE and TRUNCATE of mint_audit, even for the superuser', async () => {
    const [row] = await app.db.query<{ id: string }>('SELECT id FROM mint_audit WHERE org_id = $1 ORDER BY seq LIMIT 1', [a.orgId]);
    await refused(`UPDATE mint_audit SET outcome = 'denied' WHERE id = '${row.id}'`);
    await refused(`UPDATE mint_audit SET user_agent = 'x'`);
    await refused(`DELETE FROM mint_audit WHERE id = '${row.id}'`);
    await refused('DELETE FROM mint_audit');
    await refused('TRUNCATE mint_audit');
    await refused('TRUNCATE mint_audit CASCADE');
  });

  it('refuses UPDATE and DELETE on a monthly partition and the default partition directly', async () => {
    // Row triggers fire only for rows: give the default partition one (an org of its own, years back).
    await app.db.query(
      `INSERT INTO mint_audit (id, org_id, seq, at, provider, action, actor_kind, outcome, prev_hash, hash)
       VALUES ($1, $2, 1, '2020-01-01T00:00:00Z', 'sinch', 'mint', 'system', 'failed', $3, $3)`,
      [randomUUID(), randomUUID(), Buffer.alloc(32)],
    );
    await refused(`UPDATE ${PARTITION} SET outcome = 'denied'`);
    await refused(`DELETE FROM ${PARTITION}`);
    await refused(`UPDATE mint_audit_default SET outcome = 'denied'`);
    await refused('DELETE FROM mint_audit_default');
    // TRUNCATE triggers are not inherited: each partition carries its own.
    await refused(`TRUNCATE ${PARTITION}`);
    await refused('TRUNCATE mint_audit_default');
  });

  it('still takes new entries, and the chain still verifies', async () => {
    const before = (await chainOf(a.orgId)).length;
    await mintMany(a.admin, 3);
    expectGapless(await chainOf(a.orgId), before + 3);
    await expectVerified(keyA, before + 3);
  });
});

describe('GET /api/audit/events paging and filters', () => {
  let keyIds: string[];
  let t0: number;
  let t1: number;
  let t2: number;

  interface EventRow {
    id: string;
  }

  beforeAll(async () => {
    // Three bursts of configuration changes; each burst shares one timestamp.
    t0 = clock.nowMs() + 60_000;
    clock.set(t0);
    keyIds = [];
    for (let i = 0; i < 12; i += 1) keyIds.push((await createApiKey(a.admin, ['READ_AUDIT'], `burst-0-${i}`)).id);
    t1 = t0 + 60_000;
    clock.set(t1);
    for (let i = 0; i < 6; i += 1) {
      const response = await a.admin.patch(`/api/api-keys/${keyIds[i]}`, { name: `renamed-${i}` });
      expectStatus(response, 200);
    }
    await putSinchVoice(a.admin, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET);
    t2 = t1 + 60_000;
    clock.set(t2);
    for (let i = 6; i < 10; i += 1) expectStatus(await a.admin.delete(`/api/api-keys/${keyIds[i]}`), 204);
    // An API key makes a change too, so actorId has two values.
    const keyAdmin = await createApiKey(a.admin, ['MANAGE_API_KEYS', 'READ_AUDIT'], 'key admin');
    expectStatus(await client(app.url, keyAdmin.token).delete(`/api/api-keys/${keyIds[10]}`), 204);
    // Org B's events never show in A's lists.
    for (let i = 0; i < 3; i += 1) await createApiKey(b.admin, ['READ_AUDIT'], `b-${i}`);
  });

  const sqlIds = async (where: string, params: unknown[]): Promise<string[]> =>
    (await app.db.query<EventRow>(`SELECT id FROM config_events WHERE org_id = $1 ${where} ORDER BY at DESC, id DESC`, [a.orgId, ...params])).map((row) => row.id);

  it('pages by (at, id) through equal timestamps without loss or repeats', async () => {
    const expected = await sqlIds('', []);
    const [{ ties }] = await app.db.query<{ ties: string }>('SELECT max(n)::text AS ties FROM (SELECT count(*) AS n FROM config_events WHERE org_id = $1 GROUP BY at) g', [
      a.orgId,
    ]);
    expect(Number(ties)).toBeGreaterThanOrEqual(12);
    for (const limit of [1, 4, 5]) {
      const items = await allAuditPages(keyA, '/api/audit/events', limit);
      expect(items.map((item) => item.id)).toEqual(expected);
      for (const item of items) expect(item.orgId).toBe(a.orgId);
    }
  });

  it.each([
    ['targetType=api_key', "AND target_type = 'api_key'"],
    ['targetType=credentials', "AND target_type = 'credentials'"],
    ['action=api_key.created', "AND action = 'api_key.created'"],
    ['action=api_key.deleted', "AND action = 'api_key.deleted'"],
    ['targetType=api_key&action=api_key.updated', "AND target_type = 'api_key' AND action = 'api_key.updated'"],
  ])('filter %s returns exactly what SQL returns', async (query, where) => {
    const expected = await sqlIds(where, []);
    expect(expected.length).toBeGreaterThan(0);
    const items = await allAuditPages(keyA, `/api/audit/events?${query}`, 3);
    expect(items.map((item) => item.id)).toEqual(expected);
  });

  it('filters by actorId, from (inclusive) and to (exclusive), alone and combined', async () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    const cases: Array<[string, string, unknown[]]> = [
      [`actorId=${a.adminId}`, 'AND actor_id = $2', [a.adminId]],
      [`from=${iso(t1)}`, 'AND at >= $2', [new Date(t1)]],
      [`to=${iso(t1)}`, 'AND at < $2', [new Date(t1)]],
      [`from=${iso(t1)}&to=${iso(t2)}`, 'AND at >= $2 AND at < $3', [new Date(t1), new Date(t2)]],
      [`from=${iso(t2)}&actorId=${a.adminId}&action=api_key.deleted`, "AND at >= $2 AND actor_id = $3 AND action = 'api_key.deleted'", [new Date(t2), a.adminId]],
      [`from=${iso(t2 + 1)}`, 'AND at >= $2', [new Date(t2 + 1)]],
    ];
    for (const [query, where, params] of cases) {
      const expected = await sqlIds(where, params);
      const items = await allAuditPages(keyA, `/api/audit/events?${query}`, 4);
      expect({ query, ids: items.map((item) => item.id) }).toEqual({ query, ids: expected });
    }
    // from=t1 holds the t1 burst whole, to=t1 none of it.
    const atT1 = await sqlIds('AND at = $2', [new Date(t1)]);
    expect(atT1.length).toBeGreaterThanOrEqual(7);
  });

  it('names who changed what', async () => {
    const items = await allAuditPages(keyA, '/api/audit/events?action=api_key.deleted', 100);
    expect(items.length).toBe(5);
    for (const item of items) {
      expect(item).toMatchObject({ orgId: a.orgId, action: 'api_key.deleted', targetType: 'api_key', targetId: expect.stringMatching(UUID_PATTERN) });
    }
    expect(new Set(items.map((item) => item.actor.kind))).toEqual(new Set(['user', 'api_key']));
  });

  it('refuses a mints cursor, a tampered cursor and bad filters with 400', async () => {
    const mints = await keyA.get('/api/audit/mints?limit=1');
    expectStatus(mints, 200);
    expectValidation(await keyA.get(`/api/audit/events?cursor=${encodeURIComponent(mints.body.nextCursor)}`), 'cursor');
    const events = await keyA.get('/api/audit/events?limit=1');
    const cursor: string = events.body.nextCursor;
    expectValidation(await keyA.get(`/api/audit/events?cursor=${encodeURIComponent(`x${cursor}`)}`), 'cursor');
    expectValidation(await keyB.get(`/api/audit/events?cursor=${encodeURIComponent(cursor)}`), 'cursor');
    expectValidation(await keyA.get('/api/audit/events?limit=0'), 'limit');
    expectValidation(await keyA.get('/api/audit/events?limit=501'), 'limit');
    expectValidation(await keyA.get('/api/audit/events?from=yesterday'), 'from');
    expectValidation(await keyA.get('/api/audit/events?targetType=API_KEY'), 'targetType');
  });
});
