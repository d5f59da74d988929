import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditCheckpointWriter } from '../libs/audit/src/checkpoints/audit-checkpoint.writer';
import { AuditSigningKeys } from '../libs/audit/src/checkpoints/audit-signing-keys';
import { CheckpointCovers } from '../libs/audit/src/checkpoints/checkpoint-covers';
import { chainHash, GENESIS_HASH, tokenFingerprint } from '../libs/audit/src/mints/audit-chain';
import type { AuditedChanges, MintAuditInput } from '../libs/audit/src/mints/mint-audit.types';
import { chainedContentOf, MINT_AUDIT_COLUMNS, MintAuditRow } from '../libs/audit/src/mints/mint-audit.repository';
import { MintAuditWriter } from '../libs/audit/src/mints/mint-audit.writer';
import { Clock } from '../libs/common/src/clock';
import { InvalidationBus } from '../libs/common/src/cache/invalidation-bus';
import { Db } from '../libs/common/src/database/db';
import { SERVICE_ROLE, serviceDatabaseUrl } from '../libs/common/src/database/service-role';
import { typeOrmOptions } from '../libs/common/src/database/typeorm-options';
import { ApiError } from '../libs/common/src/errors/api-error';
import { MetricsService } from '../libs/common/src/metrics/metrics.service';
import { createTestDatabase, TestDatabase } from './support/test-database';

/**
 * The mint audit writer on its own, against a real PostgreSQL with the real migrations, connected as the
 * service role: group commit (one statement for everything handed in during one turn of the event loop),
 * each org's hash chain unbroken across batches and across instances, fail-closed when a batch cannot
 * be committed, and the committed heads handed to be signed.
 */

let db: TestDatabase;
let serviceUrl: string;
const keys = new AuditSigningKeys(new Map([['writer-spec', generateKeyPairSync('ed25519').privateKey]]));
const running: Array<{ writer: MintAuditWriter; dataSource: DataSource }> = [];

/** One service instance's writer: its own connection pool, its own copy of the chain heads. */
async function startWriter(): Promise<MintAuditWriter> {
  const dataSource = await new DataSource(typeOrmOptions(serviceUrl) as never).initialize();
  const db = new Db(dataSource);
  const clock = new Clock();
  const checkpoints = new AuditCheckpointWriter(db, keys, new CheckpointCovers(db, keys), clock, new MetricsService());
  const writer = new MintAuditWriter(db, clock, checkpoints, new InvalidationBus(dataSource));
  running.push({ writer, dataSource });
  return writer;
}

function entry(orgId: string, requestId: string, extra: Partial<MintAuditInput> = {}): MintAuditInput {
  return {
    orgId,
    provider: 'sinch',
    actor: { kind: 'api_key', id: 'k-backend' },
    subjectUserId: null,
    target: 'sinch:app-key',
    outcome: 'denied',
    code: 'MISSING_SCOPE',
    expiresAt: null,
    ip: '203.0.113.9',
    userAgent: 'writer-spec',
    requestId,
    ...extra,
  };
}

type StoredRow = MintAuditRow & { prev_hash: Buffer; hash: Buffer; tx: string };

async function rowsOf(orgId: string): Promise<StoredRow[]> {
  return db.query<StoredRow>(`SELECT ${MINT_AUDIT_COLUMNS}, prev_hash, hash, xmin::text AS tx FROM mint_audit WHERE org_id = $1 ORDER BY seq`, [orgId]);
}

/**
 * Walks an org's chain: seq 1, 2, 3 … with no gap, each entry carrying the previous one's hash and a hash
 * that recomputes from its content, and the chain head on the last one. Answers what does not hold.
 */
async function chainFaults(orgId: string): Promise<string[]> {
  const rows = await rowsOf(orgId);
  const faults: string[] = [];
  let previous = GENESIS_HASH;
  rows.forEach((row, index) => {
    if (Number(row.seq) !== index + 1) faults.push(`entry ${index + 1} has seq ${row.seq}`);
    if (!row.prev_hash.equals(previous)) faults.push(`entry ${row.seq} does not carry the previous hash`);
    if (!row.hash.equals(chainHash(row.prev_hash, chainedContentOf(row)))) faults.push(`entry ${row.seq} does not hash to its content`);
    previous = row.hash;
  });
  const [head] = await db.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_chain_heads WHERE org_id = $1', [orgId]);
  if (rows.length > 0 && (!head || Number(head.seq) !== rows.length || !head.hash.equals(previous))) faults.push('the chain head is not on the last entry');
  return faults;
}

/** A trigger function that fails every row of `orgId`, as a full disk or a lost connection would fail its statement. */
async function createPoisonFunction(name: string, orgId: string): Promise<void> {
  await db.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.org_id = '${orgId}' THEN RAISE EXCEPTION 'writer spec: this org cannot be written'; END IF;
      RETURN NEW;
    END $$`);
}

async function settled(promises: Array<Promise<void>>): Promise<Array<'committed' | ApiError>> {
  return Promise.all(
    promises.map((promise) =>
      promise.then(
        () => 'committed' as const,
        (error: ApiError) => error,
      ),
    ),
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  serviceUrl = await serviceDatabaseUrl(db.url);
});

afterAll(async () => {
  for (const { writer, dataSource } of running) {
    await writer.beforeApplicationShutdown();
    await dataSource.destroy();
  }
  await db?.drop();
});

describe('MintAuditWriter: group commit', () => {
  it('commits the entries handed in during one turn of the event loop in one statement, and settles each caller only then', async () => {
    const writer = await startWriter();
    const orgs = [randomUUID(), randomUUID(), randomUUID()];
    const promises = Array.from({ length: 45 }, (_, i) => writer.record(entry(orgs[i % 3], `group-${i}`)));
    // Settled means committed: another connection sees the entry at once.
    await promises[0];
    expect(await db.query('SELECT 1 FROM mint_audit WHERE org_id = $1 AND request_id = $2', [orgs[0], 'group-0'])).toHaveLength(1);
    expect(await settled(promises)).toEqual(Array(45).fill('committed'));
    const rows = (await Promise.all(orgs.map(rowsOf))).flat();
    expect(rows).toHaveLength(45);
    expect(new Set(rows.map((row) => row.tx)).size).toBe(1);
  });

  it('splits what waits into statements of at most 500 entries', async () => {
    const writer = await startWriter();
    const orgId = randomUUID();
    await Promise.all(Array.from({ length: 1200 }, (_, i) => writer.record(entry(orgId, `bulk-${i}`))));
    const perStatement = new Map<string, number>();
    for (const row of await rowsOf(orgId)) perStatement.set(row.tx, (perStatement.get(row.tx) ?? 0) + 1);
    expect([...perStatement.values()].sort((a, b) => b - a)).toEqual([500, 500, 200]);
    expect(await chainFaults(orgId)).toEqual([]);
  });
});

describe('MintAuditWriter: each org its own unbroken chain', () => {
  it('numbers and links entries per org, in the order they were handed in, across batches', async () => {
    const writer = await startWriter();
    const orgs = [randomUUID(), randomUUID()];
    for (let round = 0; round < 4; round++) {
      await Promise.all(Array.from({ length: 7 }, (_, i) => writer.record(entry(orgs[i % 2], `round-${round}-${i}`))));
    }
    for (const orgId of orgs) {
      expect(await chainFaults(orgId)).toEqual([]);
      const requestIds = (await rowsOf(orgId)).map((row) => row.request_id);
      const handedIn = [0, 1, 2, 3].flatMap((round) => [0, 1, 2, 3, 4, 5, 6].filter((i) => orgs[i % 2] === orgId).map((i) => `round-${round}-${i}`));
      expect(requestIds).toEqual(handedIn);
    }
  });

  it('keeps one chain when two instances write for the same org at the same time', async () => {
    const [first, second] = [await startWriter(), await startWriter()];
    const orgId = randomUUID();
    for (let round = 0; round < 5; round++) {
      await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => first.record(entry(orgId, `first-${round}-${i}`))),
        ...Array.from({ length: 10 }, (_, i) => second.record(entry(orgId, `second-${round}-${i}`))),
      ]);
    }
    expect(await rowsOf(orgId)).toHaveLength(100);
    expect(await chainFaults(orgId)).toEqual([]);
  });

  it('keeps a token only as its fingerprint', async () => {
    const writer = await startWriter();
    const orgId = randomUUID();
    const token = 'eyJhbGciOiJIUzI1NiJ9.writer-spec.signature';
    await writer.record(entry(orgId, 'issued-1', { outcome: 'issued', code: null, token, expiresAt: new Date(Date.now() + 600_000) }));
    const [row] = await db.query<Record<string, unknown>>('SELECT * FROM mint_audit WHERE org_id = $1', [orgId]);
    expect(row.token_fingerprint).toBe(tokenFingerprint(token));
    expect(JSON.stringify(row)).not.toContain(token);
  });
});

describe('MintAuditWriter: fail-closed', () => {
  const poisoned = randomUUID();

  beforeAll(async () => {
    // A row of this org makes the statement fail, as a full disk or a lost connection would.
    await createPoisonFunction('writer_spec_poison', poisoned);
  });

  it('rejects every entry of a batch that cannot be committed with 503, keeps none of it, and continues the chain where it stood', async () => {
    const writer = await startWriter();
    const healthy = randomUUID();
    await Promise.all([writer.record(entry(poisoned, 'before-1')), writer.record(entry(healthy, 'before-2'))]);

    await db.query('CREATE TRIGGER writer_spec_poison BEFORE INSERT ON mint_audit FOR EACH ROW EXECUTE FUNCTION writer_spec_poison()');
    const outcomes = await settled([writer.record(entry(poisoned, 'during-1')), writer.record(entry(healthy, 'during-2')), writer.record(entry(poisoned, 'during-3'))]);
    await db.query('DROP TRIGGER writer_spec_poison ON mint_audit');

    // One statement for the batch: the healthy org's entry went down with it, and no caller was told otherwise.
    for (const outcome of outcomes) {
      expect(outcome).toBeInstanceOf(ApiError);
      expect(outcome).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    }
    await Promise.all([writer.record(entry(poisoned, 'after-1')), writer.record(entry(healthy, 'after-2'))]);
    expect((await rowsOf(poisoned)).map((row) => [row.seq, row.request_id])).toEqual([
      ['1', 'before-1'],
      ['2', 'after-1'],
    ]);
    expect((await rowsOf(healthy)).map((row) => row.request_id)).toEqual(['before-2', 'after-2']);
    expect(await chainFaults(poisoned)).toEqual([]);
    expect(await chainFaults(healthy)).toEqual([]);
  });

  it('hands the heads of committed batches to be signed, and never those of a failed one', async () => {
    const writer = await startWriter();
    const orgId = randomUUID();
    await Promise.all(Array.from({ length: 3 }, (_, i) => writer.record(entry(orgId, `signed-${i}`))));
    await db.query('CREATE TRIGGER writer_spec_poison BEFORE INSERT ON mint_audit FOR EACH ROW EXECUTE FUNCTION writer_spec_poison()');
    await settled([writer.record(entry(poisoned, 'unsigned'))]);
    await db.query('DROP TRIGGER writer_spec_poison ON mint_audit');
    await writer.beforeApplicationShutdown();
    const checkpoints = await db.query<{ org_id: string; seq: string; hash: Buffer }>(
      'SELECT org_id, seq, hash FROM audit_checkpoints WHERE org_id = ANY($1::uuid[]) ORDER BY org_id, seq',
      [[orgId, poisoned]],
    );
    const [head] = await db.query<{ hash: Buffer }>('SELECT hash FROM audit_chain_heads WHERE org_id = $1', [orgId]);
    expect(checkpoints.filter((checkpoint) => checkpoint.org_id === orgId).map((checkpoint) => checkpoint.seq)).toEqual(['3']);
    expect(checkpoints.find((checkpoint) => checkpoint.org_id === orgId)!.hash.equals(head.hash)).toBe(true);
    // The poisoned org's checkpoints are those of its committed entries only (seq 1 and 2 of the test above).
    expect(checkpoints.filter((checkpoint) => checkpoint.org_id === poisoned).every((checkpoint) => Number(checkpoint.seq) <= 2)).toBe(true);
  });
});

describe('MintAuditWriter: changes carried by the batch (recordChange)', () => {
  /** A stand-in for a call token's redemption: a row that may be claimed once. */
  const claims: AuditedChanges<string> = {
    name: 'writer_spec_claims',
    async apply(tx, ids) {
      const rows = await tx.query<{ id: string }>('UPDATE writer_spec_claims SET claimed = true WHERE id = ANY($1::uuid[]) AND NOT claimed RETURNING id', [ids]);
      const claimed = new Set(rows.map((row) => row.id));
      // Of several changes to one row, the first is made.
      const made = new Set<number>();
      ids.forEach((id, i) => {
        if (claimed.delete(id)) made.add(i);
      });
      return made;
    },
  };
  const poisoned = randomUUID();

  async function claimable(): Promise<string> {
    const id = randomUUID();
    await db.query('INSERT INTO writer_spec_claims (id) VALUES ($1)', [id]);
    return id;
  }

  async function claimed(id: string): Promise<boolean> {
    return (await db.query<{ claimed: boolean }>('SELECT claimed FROM writer_spec_claims WHERE id = $1', [id]))[0].claimed;
  }

  beforeAll(async () => {
    await db.query('CREATE TABLE writer_spec_claims (id uuid PRIMARY KEY, claimed boolean NOT NULL DEFAULT false)');
    await db.query(`GRANT SELECT, UPDATE ON writer_spec_claims TO ${SERVICE_ROLE}`);
    await createPoisonFunction('writer_spec_poison_claims', poisoned);
  });

  it('commits each change with its entry in one transaction; a change that cannot be made any more writes no entry and answers false', async () => {
    const writer = await startWriter();
    const orgId = randomUUID();
    const id = await claimable();
    const outcomes = await Promise.all([
      writer.recordChange(entry(orgId, 'claim-1', { outcome: 'issued', code: null }), claims, id),
      writer.recordChange(entry(orgId, 'claim-2', { outcome: 'issued', code: null }), claims, id),
      writer.record(entry(orgId, 'plain')).then(() => 'committed'),
    ]);
    expect(outcomes).toEqual([true, false, 'committed']);
    expect(await claimed(id)).toBe(true);
    const rows = await rowsOf(orgId);
    expect(rows.map((row) => row.request_id)).toEqual(['claim-1', 'plain']);
    // The change and the entries committed in one transaction.
    const [change] = await db.query<{ tx: string }>('SELECT xmin::text AS tx FROM writer_spec_claims WHERE id = $1', [id]);
    expect(new Set([change.tx, ...rows.map((row) => row.tx)]).size).toBe(1);
    expect(await chainFaults(orgId)).toEqual([]);
    // Once made, it is not made again.
    expect(await writer.recordChange(entry(orgId, 'claim-3'), claims, id)).toBe(false);
    expect((await rowsOf(orgId)).map((row) => row.request_id)).toEqual(['claim-1', 'plain']);
  });

  it('rolls the change back with a batch that cannot be committed (503): it is made afterwards, exactly once', async () => {
    const writer = await startWriter();
    const healthy = randomUUID();
    const id = await claimable();
    await db.query('CREATE TRIGGER writer_spec_poison_claims BEFORE INSERT ON mint_audit FOR EACH ROW EXECUTE FUNCTION writer_spec_poison_claims()');
    const outcomes = await settled([writer.recordChange(entry(healthy, 'refused-claim'), claims, id).then(() => undefined), writer.record(entry(poisoned, 'refused-plain'))]);
    await db.query('DROP TRIGGER writer_spec_poison_claims ON mint_audit');
    for (const outcome of outcomes) expect(outcome).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    expect(await claimed(id)).toBe(false);
    expect(await rowsOf(healthy)).toEqual([]);

    const again = await Promise.all(Array.from({ length: 5 }, (_, i) => writer.recordChange(entry(healthy, `again-${i}`), claims, id)));
    expect(again.filter(Boolean)).toHaveLength(1);
    expect(await claimed(id)).toBe(true);
    expect(await rowsOf(healthy)).toHaveLength(1);
    expect(await chainFaults(healthy)).toEqual([]);
  });

  it('makes a change exactly once when two instances carry it at the same time, and keeps one chain', async () => {
    const [first, second] = [await startWriter(), await startWriter()];
    const orgId = randomUUID();
    const ids = await Promise.all(Array.from({ length: 10 }, () => claimable()));
    const outcomes = await Promise.all(
      ids.flatMap((id, i) => [first.recordChange(entry(orgId, `first-${i}`), claims, id), second.recordChange(entry(orgId, `second-${i}`), claims, id)]),
    );
    for (let i = 0; i < ids.length; i++) expect([outcomes[2 * i], outcomes[2 * i + 1]].filter(Boolean)).toHaveLength(1);
    expect(await rowsOf(orgId)).toHaveLength(10);
    expect(await chainFaults(orgId)).toEqual([]);
  });
});
