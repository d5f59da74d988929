import { Writable } from 'node:stream';
import { pruneAudit, verifyAudit } from '../apps/cli/src/audit.commands';
import { AuditPartitionsService } from '../libs/audit/src/retention/audit-partitions.service';
import { ManualClock } from '../libs/common/src/clock';
import { createLogger } from '../libs/common/src/logging/logger';
import { expectStatus } from './support/assertions';
import { createOrgWithAdmin, OrgFixture } from './support/fixtures';
import { client, Client } from './support/http';
import { createApiKey, putSinchVoice, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Retention: monthly partitions are created ahead and dropped whole. A pruning leaves, per org, an
 * anchor (the last removed entry's seq and hash) and an `audit.pruned` event naming the anchor and the
 * chain head, so what remains still verifies and tampering with it is still caught. Entries of months
 * without a partition sit in mint_audit_default, which pruning never drops.
 *
 * Timeline (ManualClock): org D mints in December 2024 (no partition: default), orgs A and B in January,
 * February and March 2025 (monthly partitions).
 */

const SINCH_PATH = '/api/calls/token/sinch';
const DEC = Date.UTC(2024, 11, 15, 9, 0, 0);
const JAN = Date.UTC(2025, 0, 15, 9, 0, 0);
const FEB = Date.UTC(2025, 1, 15, 9, 0, 0);
const MAR = Date.UTC(2025, 2, 15, 9, 0, 0);

let clock: ManualClock;
let app: TestApp;
let partitions: AuditPartitionsService;
let a: OrgFixture;
let b: OrgFixture;
let d: OrgFixture;
let keyA: Client;
let keyB: Client;
let keyD: Client;
const cliLogs: string[] = [];
const cliLogger = createLogger(
  'warn',
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      cliLogs.push(chunk.toString('utf8'));
      done();
    },
  }),
);

interface Row {
  id: string;
  seq: string;
  at: Date;
  hash: Buffer;
  partition: string;
}

async function rowsOf(orgId: string): Promise<Row[]> {
  return app.db.query<Row>('SELECT id, seq, at, hash, tableoid::regclass::text AS partition FROM mint_audit WHERE org_id = $1 ORDER BY seq', [orgId]);
}

async function mint(admin: Client, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const response = await admin.get(SINCH_PATH);
    if (response.status !== 200) throw new Error(`mint failed: ${response.status} ${response.text}`);
  }
}

async function verify(reader: Client): Promise<{ ok: boolean; checked: number; firstBrokenId: string | null }> {
  const response = await reader.get('/api/audit/verify');
  expectStatus(response, 200);
  return response.body;
}

async function partitionNames(): Promise<string[]> {
  const rows = await app.db.query<{ name: string }>(
    "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'mint_audit'::regclass ORDER BY 1",
  );
  // The CLI's own application context creates partitions around the real date too; those are not this test's.
  return rows.map((row) => row.name).filter((name) => /^mint_audit_(default|p2025\d\d)$/.test(name));
}

async function head(orgId: string): Promise<{ seq: string; hash: Buffer }> {
  const [row] = await app.db.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_chain_heads WHERE org_id = $1', [orgId]);
  return row;
}

/** Retention pruning as the CLI runs it: as the owner (the service's role cannot drop partitions). */
function prune(month: string) {
  return pruneAudit(app.config, cliLogger, app.db.url, month, clock);
}

async function withTriggersOff<T>(work: () => Promise<T>): Promise<T> {
  await app.db.query('ALTER TABLE mint_audit DISABLE TRIGGER USER');
  try {
    return await work();
  } finally {
    await app.db.query('ALTER TABLE mint_audit ENABLE TRIGGER USER');
  }
}

beforeAll(async () => {
  clock = new ManualClock(JAN);
  app = await startTestApp({ clock });
  partitions = app.app.get(AuditPartitionsService);
  [a, b, d] = [await createOrgWithAdmin(app, 'Retention A'), await createOrgWithAdmin(app, 'Retention B'), await createOrgWithAdmin(app, 'Retention D')];
  for (const org of [a, b, d]) await putSinchVoice(org.admin, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET);
  keyA = client(app.url, (await createApiKey(a.admin, ['READ_AUDIT'], 'auditor A')).token);
  keyB = client(app.url, (await createApiKey(b.admin, ['READ_AUDIT'], 'auditor B')).token);
  keyD = client(app.url, (await createApiKey(d.admin, ['READ_AUDIT'], 'auditor D')).token);

  clock.set(DEC);
  await mint(d.admin, 3);
  clock.set(JAN);
  await mint(a.admin, 4);
  await mint(b.admin, 3);
  clock.set(FEB);
  await partitions.ensureAhead(clock.now());
  await mint(a.admin, 4);
  await mint(b.admin, 2);
  clock.set(MAR);
  await partitions.ensureAhead(clock.now());
  await mint(a.admin, 4);
});

afterAll(async () => {
  await app?.close();
});

describe('monthly partitions', () => {
  it('are created ahead from the clock, and entries land in their month (or the default partition)', async () => {
    expect(await partitionNames()).toEqual([
      'mint_audit_default',
      'mint_audit_p202501',
      'mint_audit_p202502',
      'mint_audit_p202503',
      'mint_audit_p202504',
      'mint_audit_p202505',
    ]);
    expect((await rowsOf(a.orgId)).map((row) => row.partition)).toEqual([
      ...Array(4).fill('mint_audit_p202501'),
      ...Array(4).fill('mint_audit_p202502'),
      ...Array(4).fill('mint_audit_p202503'),
    ]);
    expect((await rowsOf(d.orgId)).map((row) => row.partition)).toEqual(Array(3).fill('mint_audit_default'));
    // Running it again (as every instance does) changes nothing.
    await partitions.ensureAhead(clock.now());
    await partitions.ensureAhead(new Date(FEB));
    expect(await partitionNames()).toHaveLength(6);
  });

  it('every chain verifies before any pruning', async () => {
    expect(await verify(keyA)).toMatchObject({ ok: true, checked: 12, firstBrokenId: null });
    expect(await verify(keyB)).toMatchObject({ ok: true, checked: 5, firstBrokenId: null });
    expect(await verify(keyD)).toMatchObject({ ok: true, checked: 3, firstBrokenId: null });
  });
});

describe('AuditPartitionsService.prune', () => {
  let rowsA: Row[];
  let rowsB: Row[];
  let headA: { seq: string; hash: Buffer };

  beforeAll(async () => {
    rowsA = await rowsOf(a.orgId);
    rowsB = await rowsOf(b.orgId);
    headA = await head(a.orgId);
  });

  it('refuses a month that is not YYYY-MM', async () => {
    for (const month of ['2025-13', '2025-1', '202502', 'yesterday', '2025-02-01']) {
      await expect(prune(month)).rejects.toThrow(/YYYY-MM/);
    }
  });

  it('drops the monthly partitions before the month, never the default partition', async () => {
    // Auditors verifying while the pruning runs never see a broken chain.
    const seen: Array<{ ok: boolean }> = [];
    let done = false;
    const verifier = async () => {
      while (!done) seen.push(await verify(keyA));
    };
    const verifying = Promise.all([verifier(), verifier()]);
    let result: Awaited<ReturnType<AuditPartitionsService['prune']>>;
    try {
      await new Promise((resolve) => setTimeout(resolve, 20));
      result = await prune('2025-02');
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      done = true;
      await verifying;
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((verification) => !verification.ok)).toEqual([]);
    expect(result.droppedPartitions).toEqual(['mint_audit_p202501']);
    expect(result.anchors).toEqual(
      expect.arrayContaining([
        { orgId: a.orgId, seq: 4 },
        { orgId: b.orgId, seq: 3 },
      ]),
    );
    expect(await partitionNames()).toEqual(['mint_audit_default', 'mint_audit_p202502', 'mint_audit_p202503', 'mint_audit_p202504', 'mint_audit_p202505']);
    expect((await rowsOf(a.orgId)).map((row) => row.id)).toEqual(rowsA.slice(4).map((row) => row.id));
    expect((await rowsOf(b.orgId)).map((row) => row.id)).toEqual(rowsB.slice(3).map((row) => row.id));
    // Org D's December entries sit in the default partition: still there.
    expect(await rowsOf(d.orgId)).toHaveLength(3);
  });

  it('records the anchor of each org in audit_chain_anchors', async () => {
    const anchors = await app.db.query<{ org_id: string; seq: string; hash: Buffer; pruned_before: Date }>(
      'SELECT org_id, seq, hash, pruned_before FROM audit_chain_anchors WHERE org_id = ANY($1::uuid[]) ORDER BY org_id',
      [[a.orgId, b.orgId]],
    );
    expect(anchors).toHaveLength(2);
    const anchorA = anchors.find((anchor) => anchor.org_id === a.orgId)!;
    expect(anchorA.seq).toBe('4');
    expect(anchorA.hash).toEqual(rowsA[3].hash);
    expect(anchorA.pruned_before.toISOString()).toBe('2025-02-01T00:00:00.000Z');
    const anchorB = anchors.find((anchor) => anchor.org_id === b.orgId)!;
    expect(anchorB.seq).toBe('3');
    expect(anchorB.hash).toEqual(rowsB[2].hash);
  });

  it('records an audit.pruned event with the anchor and the chain head', async () => {
    const response = await keyA.get('/api/audit/events?action=audit.pruned');
    expectStatus(response, 200);
    expect(response.body.items).toHaveLength(1);
    const [event] = response.body.items;
    expect(event).toMatchObject({
      orgId: a.orgId,
      action: 'audit.pruned',
      targetType: 'audit',
      actor: { kind: 'system', id: null },
      at: new Date(MAR).toISOString(),
    });
    expect(event.details).toEqual({
      before: '2025-02-01T00:00:00.000Z',
      anchor: { seq: 4, hash: rowsA[3].hash.toString('hex') },
      chainHead: { seq: Number(headA.seq), hash: headA.hash.toString('hex') },
      partitions: ['mint_audit_p202501'],
    });
    // Each org sees its own event only.
    const forB = await keyB.get('/api/audit/events?action=audit.pruned');
    expect(forB.body.items).toHaveLength(1);
    expect(forB.body.items[0].details.anchor).toEqual({ seq: 3, hash: rowsB[2].hash.toString('hex') });
  });

  it('leaves chains that verify from their anchors, checking the remaining entries', async () => {
    expect(await verify(keyA)).toMatchObject({ ok: true, checked: 8, firstBrokenId: null });
    expect(await verify(keyB)).toMatchObject({ ok: true, checked: 2, firstBrokenId: null });
  });

  it('removes the signed checkpoints of pruned entries; those that remain still sign through the head', async () => {
    const checkpointSeqs = async (orgId: string) =>
      (await app.db.query<{ seq: string }>('SELECT seq FROM audit_checkpoints WHERE org_id = $1 ORDER BY seq', [orgId])).map((row) => Number(row.seq));
    expect((await checkpointSeqs(a.orgId)).filter((seq) => seq <= 4)).toEqual([]);
    expect((await checkpointSeqs(b.orgId)).filter((seq) => seq <= 3)).toEqual([]);
    for (const [reader, orgId] of [
      [keyA, a.orgId],
      [keyB, b.orgId],
    ] as const) {
      const remaining = await checkpointSeqs(orgId);
      expect(await verify(reader)).toMatchObject({ ok: true, checkpoints: remaining.length, signedThroughSeq: Number((await head(orgId)).seq), unsignedTail: 0 });
    }
  });

  it("does not anchor past entries it did not drop (the default partition's)", async () => {
    // Org D had nothing in the dropped partition: its entries are all still there and still checked.
    const anchorsD = await app.db.query('SELECT seq FROM audit_chain_anchors WHERE org_id = $1', [d.orgId]);
    expect(anchorsD).toEqual([]);
    expect(await verify(keyD)).toMatchObject({ ok: true, checked: 3, firstBrokenId: null });
    const rowsD = await rowsOf(d.orgId);
    await withTriggersOff(() => app.db.query("UPDATE mint_audit SET outcome = 'denied' WHERE id = $1", [rowsD[1].id]));
    expect(await verify(keyD)).toMatchObject({ ok: false, firstBrokenId: rowsD[1].id });
    await withTriggersOff(() => app.db.query("UPDATE mint_audit SET outcome = 'issued' WHERE id = $1", [rowsD[1].id]));
    expect(await verify(keyD)).toMatchObject({ ok: true, checked: 3 });
  });

  it('is a no-op when run again for the same month', async () => {
    const result = await prune('2025-02');
    expect(result).toEqual({ droppedPartitions: [], anchors: [] });
    const events = await app.db.query("SELECT id FROM config_events WHERE action = 'audit.pruned'");
    expect(events).toHaveLength(2);
  });

  it('new entries continue the chain after a pruning', async () => {
    await mint(a.admin, 2);
    const rows = await rowsOf(a.orgId);
    expect(rows.map((row) => Number(row.seq))).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(await verify(keyA)).toMatchObject({ ok: true, checked: 10, firstBrokenId: null });
  });

  it('still catches an edited or a deleted entry after pruning', async () => {
    const rows = await app.db.query<Record<string, any>>('SELECT * FROM mint_audit WHERE org_id = $1 ORDER BY seq', [a.orgId]);
    const restore = async (row: Record<string, any>) => {
      const columns = Object.keys(row);
      await app.db.query(
        `INSERT INTO mint_audit (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        columns.map((c) => row[c]),
      );
    };
    await withTriggersOff(async () => {
      // The first entry after the anchor.
      await app.db.query('DELETE FROM mint_audit WHERE id = $1', [rows[0].id]);
      expect(await verify(keyA)).toMatchObject({ ok: false, firstBrokenId: rows[1].id, checked: 0 });
      await restore(rows[0]);
      // A middle one.
      await app.db.query('DELETE FROM mint_audit WHERE id = $1', [rows[4].id]);
      expect(await verify(keyA)).toMatchObject({ ok: false, firstBrokenId: rows[5].id, checked: 4 });
      await restore(rows[4]);
      // An edit.
      await app.db.query("UPDATE mint_audit SET user_agent = 'edited' WHERE id = $1", [rows[2].id]);
      expect(await verify(keyA)).toMatchObject({ ok: false, firstBrokenId: rows[2].id });
      await app.db.query('UPDATE mint_audit SET user_agent = $1 WHERE id = $2', [rows[2].user_agent, rows[2].id]);
      // The newest.
      await app.db.query('DELETE FROM mint_audit WHERE id = $1', [rows[rows.length - 1].id]);
      expect(await verify(keyA)).toMatchObject({ ok: false, firstBrokenId: null });
      await restore(rows[rows.length - 1]);
      expect(await verify(keyA)).toMatchObject({ ok: true, checked: 10 });
    });
  });

  it('keeps the append-only triggers on partitions created later', async () => {
    await expect(app.db.query("UPDATE mint_audit_p202503 SET outcome = 'denied'")).rejects.toThrow(/append-only/);
    await expect(app.db.query('DELETE FROM mint_audit_p202502')).rejects.toThrow(/append-only/);
  });
});

describe('the CLI commands (audit:prune, audit:verify)', () => {
  it('audit:prune drops the next month and anchors the chains', async () => {
    const rowsA = await rowsOf(a.orgId);
    const febA = rowsA.filter((row) => row.partition === 'mint_audit_p202502');
    expect(febA).toHaveLength(4);
    const result = await pruneAudit(app.config, cliLogger, app.db.url, '2025-03');
    expect(result.droppedPartitions).toEqual(['mint_audit_p202502']);
    expect(result.anchors).toEqual(
      expect.arrayContaining([
        { orgId: a.orgId, seq: 8 },
        { orgId: b.orgId, seq: 5 },
      ]),
    );
    expect(await partitionNames()).toEqual(['mint_audit_default', 'mint_audit_p202503', 'mint_audit_p202504', 'mint_audit_p202505']);
    const [anchor] = await app.db.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_chain_anchors WHERE org_id = $1 ORDER BY seq DESC LIMIT 1', [a.orgId]);
    expect(anchor.seq).toBe('8');
    expect(anchor.hash).toEqual(febA[3].hash);
    const events = await app.db.query<{ details: any }>(
      "SELECT details FROM config_events WHERE org_id = $1 AND action = 'audit.pruned' ORDER BY (details->'anchor'->>'seq')::int",
      [a.orgId],
    );
    expect(events.map((event) => event.details.anchor.seq)).toEqual([4, 8]);
    expect(events[1].details).toMatchObject({ before: '2025-03-01T00:00:00.000Z', chainHead: { seq: 14 }, partitions: ['mint_audit_p202502'] });
  });

  it('audit:verify checks one org, or every org with a chain', async () => {
    expect(await verifyAudit(app.config, cliLogger, app.db.url, a.orgId)).toEqual([
      { orgId: a.orgId, ok: true, checked: 6, firstBrokenId: null, checkpoints: expect.any(Number), signedThroughSeq: 14, unsignedTail: 0, detail: expect.any(String) },
    ]);
    const all = await verifyAudit(app.config, cliLogger, app.db.url);
    const byOrg = new Map(all.map((result) => [result.orgId, result]));
    expect(byOrg.get(a.orgId)).toMatchObject({ ok: true, checked: 6 });
    expect(byOrg.get(b.orgId)).toMatchObject({ ok: true, checked: 0 });
    expect(byOrg.get(d.orgId)).toMatchObject({ ok: true, checked: 3 });
    expect(all.every((result) => result.ok)).toBe(true);
    // Over HTTP too.
    expect(await verify(keyA)).toMatchObject({ ok: true, checked: 6, firstBrokenId: null });
    expect(await verify(keyB)).toMatchObject({ ok: true, checked: 0, firstBrokenId: null });
  });

  it('audit:verify reports a deletion after pruning', async () => {
    const rows = await rowsOf(a.orgId);
    const [victim] = await app.db.query<Record<string, any>>('SELECT * FROM mint_audit WHERE id = $1', [rows[2].id]);
    await withTriggersOff(() => app.db.query('DELETE FROM mint_audit WHERE id = $1', [victim.id]));
    try {
      const [result] = await verifyAudit(app.config, cliLogger, app.db.url, a.orgId);
      expect(result).toMatchObject({ orgId: a.orgId, ok: false, firstBrokenId: rows[3].id });
      expect(await verify(keyA)).toMatchObject({ ok: false, firstBrokenId: rows[3].id });
    } finally {
      const columns = Object.keys(victim);
      await app.db.query(
        `INSERT INTO mint_audit (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        columns.map((c) => victim[c]),
      );
    }
    expect(await verify(keyA)).toMatchObject({ ok: true, checked: 6 });
    expect(cliLogs.join('')).not.toMatch(/"level":"(error|fatal)"/);
  });
});
