import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { signCheckpoint } from '../libs/audit/src/checkpoints/audit-checkpoint';
import { AuditSigningKeys } from '../libs/audit/src/checkpoints/audit-signing-keys';
import type { ChainedContent } from '../libs/audit/src/mints/audit-chain';
import { chainedContentOf, MINT_AUDIT_COLUMNS, MintAuditRow } from '../libs/audit/src/mints/mint-audit.repository';
import { expectStatus } from './support/assertions';
import { startSecondInstance } from './support/call-tokens';
import { cleanupCli, runCli } from './support/cli-process';
import { createOrgWithAdmin, OrgFixture } from './support/fixtures';
import { client, Client, http } from './support/http';
import { createApiKey, putSinchVoice, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { insertChainedEntry } from './support/audit';

/**
 * Which heads the service signs. Someone with database access can append an entry with a correct link
 * after the newest checkpoint and move the head; verify rightly shows it only as unsigned tail. The
 * service must not then sign its next batch on top of it (that would vouch for the forgery): it signs a
 * head only when the head its batch started from is one it committed itself or one a valid checkpoint
 * covers, and withholds (logged, counted) otherwise — without failing a mint. Honest instances moving
 * one org's head in turn sign each other's heads within milliseconds, so they never withhold.
 *
 * Instance A signs with key ka, instance B with kb, each trusting both: the key id of a checkpoint tells
 * which instance signed it.
 */

const SINCH_PATH = '/api/calls/token/sinch';
const WITHHELD_WARNING = 'the audit chain head was moved by a writer that did not sign it';

type Row = MintAuditRow & { prev_hash: Buffer; hash: Buffer };

const ringEntry = (id: string, key: ReturnType<typeof generateKeyPairSync>['privateKey']) => `${id}:${key.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`;
const ka = ringEntry('ka', generateKeyPairSync('ed25519').privateKey);
const kb = ringEntry('kb', generateKeyPairSync('ed25519').privateKey);

let db: TestDatabase;
let a: TestApp;
let b: TestApp | undefined;
/** The org attacked in the first case; the org two instances write in turn. */
let forgedOrg: OrgFixture;
let sharedOrg: OrgFixture;
/** An org whose chain has no checkpoint at all, as one written before checkpoints existed. */
let legacyOrg: OrgFixture;
/** An org whose head another writer moves and signs, but too late. */
let lateOrg: OrgFixture;
let forgedReader: Client;
let forgedReaderToken: string;
let sharedReader: Client;
let sharedReaderToken: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function headOf(orgId: string): Promise<{ seq: number; hash: Buffer }> {
  const [head] = await a.db.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_chain_heads WHERE org_id = $1', [orgId]);
  return { seq: Number(head.seq), hash: head.hash };
}

async function checkpointsOf(orgId: string): Promise<Array<{ seq: number; keyId: string }>> {
  const rows = await a.db.query<{ seq: string; key_id: string }>('SELECT seq, key_id FROM audit_checkpoints WHERE org_id = $1 ORDER BY seq', [orgId]);
  return rows.map((row) => ({ seq: Number(row.seq), keyId: row.key_id }));
}

async function verify(reader: Client) {
  const response = await reader.get('/api/audit/verify');
  expectStatus(response, 200);
  return response.body;
}

/** Mints one token at a time: each mint is a batch of its own, so each moves the head once. */
async function mintOneByOne(minter: Client, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) expectStatus(await minter.get(SINCH_PATH), 200);
}

/** The contract's bound: a checkpoint of the org's newest entry is stored within 2 s of the mints returning. */
async function expectSignedThroughHeadWithin2s(orgId: string, stoppedAt: number): Promise<number> {
  const head = await headOf(orgId);
  for (;;) {
    const [row] = await a.db.query<{ hash: Buffer }>('SELECT hash FROM audit_checkpoints WHERE org_id = $1 AND seq = $2', [orgId, head.seq]);
    if (row) {
      expect(row.hash).toEqual(head.hash);
      return head.seq;
    }
    if (Date.now() - stoppedAt > 2_000) throw new Error(`no checkpoint of entry ${head.seq} within 2 s of the last mint`);
    await sleep(20);
  }
}

async function unsignedHeadsMetric(target: TestApp): Promise<number> {
  const response = await http(target.url, 'GET', '/metrics');
  expectStatus(response, 200);
  const match = /^mintline_audit_unsigned_heads_total (\d+)$/m.exec(response.text);
  if (!match) throw new Error('mintline_audit_unsigned_heads_total is not on /metrics');
  return Number(match[1]);
}

/** The withheld-head warnings an instance logged, parsed. */
function withheldWarnings(target: TestApp): Array<{ orgId: string; seq: number; level: number }> {
  return target.logs
    .join('')
    .split('\n')
    .filter((line) => line.includes(WITHHELD_WARNING))
    .map((line) => JSON.parse(line));
}

/** Appends an entry after the org's newest one as the database owner would: the project's own chain hash, a correct link, the head moved. */
async function forgeEntryAfterHead(orgId: string): Promise<ChainedContent> {
  const [newest] = await a.db.query<Row>(`SELECT ${MINT_AUDIT_COLUMNS}, prev_hash, hash FROM mint_audit WHERE org_id = $1 ORDER BY seq DESC LIMIT 1`, [orgId]);
  const content: ChainedContent = {
    ...chainedContentOf(newest),
    id: randomUUID(),
    seq: Number(newest.seq) + 1,
    at: new Date(newest.at.getTime() + 1),
    userAgent: 'forged with database access',
    requestId: 'forged',
  };
  const hash = await insertChainedEntry(a.db, content, newest.hash);
  await a.db.query('UPDATE audit_chain_heads SET seq = $1, hash = $2, at = $3 WHERE org_id = $4', [content.seq, hash, content.at, orgId]);
  return content;
}

beforeAll(async () => {
  db = await createTestDatabase();
  a = await startTestApp({ db, config: { auditSigningKeys: `${ka},${kb}` } });
  forgedOrg = await createOrgWithAdmin(a, 'Forged tail');
  sharedOrg = await createOrgWithAdmin(a, 'Two writers');
  legacyOrg = await createOrgWithAdmin(a, 'Before checkpoints');
  lateOrg = await createOrgWithAdmin(a, 'Late signer');
  for (const fixture of [forgedOrg, sharedOrg, legacyOrg, lateOrg]) await putSinchVoice(fixture.admin, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET);
  forgedReaderToken = (await createApiKey(forgedOrg.admin, ['READ_AUDIT'], 'reader')).token;
  forgedReader = client(a.url, forgedReaderToken);
  sharedReaderToken = (await createApiKey(sharedOrg.admin, ['READ_AUDIT'], 'reader')).token;
  sharedReader = client(a.url, sharedReaderToken);
});

afterAll(async () => {
  cleanupCli();
  await b?.close();
  await a?.close();
  await db?.drop();
});

describe('a forged entry after the newest checkpoint', () => {
  let honestSeq: number;
  let forged: ChainedContent;
  const MINTS_AFTER = 3;

  it('is not signed over by the batches the service commits on top of it', async () => {
    await mintOneByOne(forgedOrg.admin, 3);
    honestSeq = await expectSignedThroughHeadWithin2s(forgedOrg.orgId, Date.now());
    expect(await unsignedHeadsMetric(a)).toBe(0);

    forged = await forgeEntryAfterHead(forgedOrg.orgId);
    expect(await verify(forgedReader)).toMatchObject({ ok: true, checked: forged.seq, signedThroughSeq: honestSeq, unsignedTail: 1 });

    // The mints themselves are never held up or refused.
    await mintOneByOne(forgedOrg.admin, MINTS_AFTER);
    const head = await headOf(forgedOrg.orgId);
    expect(head.seq).toBe(forged.seq + MINTS_AFTER);

    // Each of the three batches is withheld (the first after waiting for a checkpoint of the forged head).
    for (let i = 0; i < 150 && (await unsignedHeadsMetric(a)) < MINTS_AFTER; i += 1) await sleep(20);
    expect(await unsignedHeadsMetric(a)).toBe(MINTS_AFTER);
    const warnings = withheldWarnings(a);
    expect(warnings).toEqual([expect.objectContaining({ orgId: forgedOrg.orgId, seq: forged.seq, level: 'warn' })]);

    // Nothing after the honest part was signed: verify shows the forged entry and every one after it as unsigned.
    expect((await checkpointsOf(forgedOrg.orgId)).filter((checkpoint) => checkpoint.seq > honestSeq)).toEqual([]);
    expect(await verify(forgedReader)).toMatchObject({
      ok: true,
      firstBrokenId: null,
      checked: head.seq,
      signedThroughSeq: honestSeq,
      unsignedTail: head.seq - honestSeq,
    });
  });

  it('later batches on top stay unsigned, evident in a growing unsigned tail', async () => {
    await mintOneByOne(forgedOrg.admin, 2);
    for (let i = 0; i < 100 && (await unsignedHeadsMetric(a)) < MINTS_AFTER + 2; i += 1) await sleep(20);
    expect(await unsignedHeadsMetric(a)).toBe(MINTS_AFTER + 2);
    const head = await headOf(forgedOrg.orgId);
    expect(await verify(forgedReader)).toMatchObject({ ok: true, signedThroughSeq: honestSeq, unsignedTail: head.seq - honestSeq });
    // One warning when the chain was found unsigned, not one per batch.
    expect(withheldWarnings(a)).toHaveLength(1);
  });
});

describe('a head another instance signs only after the wait', () => {
  it('is withheld meanwhile (a checkpoint row with a wrong signature does not count), and signing resumes with the next batch once a valid one is stored', async () => {
    const reader = client(a.url, (await createApiKey(lateOrg.admin, ['READ_AUDIT'], 'reader')).token);
    await mintOneByOne(lateOrg.admin, 2);
    await expectSignedThroughHeadWithin2s(lateOrg.orgId, Date.now());
    const unsignedBefore = await unsignedHeadsMetric(a);

    // A writer holding key kb (a slow instance, played by the test) moves the head and signs it only later.
    const theirs = await forgeEntryAfterHead(lateOrg.orgId);
    await mintOneByOne(lateOrg.admin, 1);
    for (let i = 0; i < 150 && (await unsignedHeadsMetric(a)) < unsignedBefore + 1; i += 1) await sleep(20);
    expect(await unsignedHeadsMetric(a)).toBe(unsignedBefore + 1);
    expect(withheldWarnings(a).filter((warning) => warning.orgId === lateOrg.orgId)).toEqual([expect.objectContaining({ seq: theirs.seq })]);
    expect(await verify(reader)).toMatchObject({ ok: true, signedThroughSeq: 2, unsignedTail: 2 });

    const [entry] = await a.db.query<{ hash: Buffer }>('SELECT hash FROM mint_audit WHERE org_id = $1 AND seq = $2', [lateOrg.orgId, theirs.seq]);
    const claim = { orgId: lateOrg.orgId, seq: theirs.seq, hash: entry.hash.toString('hex'), at: new Date().toISOString() };
    const store = (checkpoint: ReturnType<typeof signCheckpoint>) =>
      a.db.query(
        `INSERT INTO audit_checkpoints (org_id, seq, hash, at, key_id, signature) VALUES ($1, $2, decode($3, 'hex'), $4, $5, decode($6, 'base64'))
         ON CONFLICT (org_id, seq) DO UPDATE SET hash = EXCLUDED.hash, at = EXCLUDED.at, key_id = EXCLUDED.key_id, signature = EXCLUDED.signature`,
        [checkpoint.orgId, checkpoint.seq, checkpoint.hash, checkpoint.at, checkpoint.keyId, checkpoint.signature],
      );

    // A checkpoint row named for key kb but signed with another key vouches for nothing: still withheld.
    await store(signCheckpoint(AuditSigningKeys.parse(ringEntry('kb', generateKeyPairSync('ed25519').privateKey)), claim));
    await mintOneByOne(lateOrg.admin, 1);
    for (let i = 0; i < 100 && (await unsignedHeadsMetric(a)) < unsignedBefore + 2; i += 1) await sleep(20);
    expect(await unsignedHeadsMetric(a)).toBe(unsignedBefore + 2);
    expect((await checkpointsOf(lateOrg.orgId)).map((checkpoint) => checkpoint.seq)).toEqual([1, 2, theirs.seq]);

    // The real kb signature arrives: the next batch signs, and its checkpoint covers the whole tail.
    await store(signCheckpoint(AuditSigningKeys.parse(kb), claim));
    await mintOneByOne(lateOrg.admin, 1);
    expect(await expectSignedThroughHeadWithin2s(lateOrg.orgId, Date.now())).toBe(theirs.seq + 3);
    expect(await verify(reader)).toMatchObject({ ok: true, checked: theirs.seq + 3, signedThroughSeq: theirs.seq + 3, unsignedTail: 0 });
    expect(await unsignedHeadsMetric(a)).toBe(unsignedBefore + 2);
    expect(a.logs.join('')).toContain('signing resumes');
  });
});

describe('an operator vouching for a withheld head with audit:sign-head', () => {
  /** `npm run cli -- audit:sign-head ...` as the schema owner, with the service's key ring (ka signs). */
  const signHead = (orgId: string, seq: number | string, hash: string) =>
    runCli(['audit:sign-head', '--org', orgId, '--seq', String(seq), '--hash', hash], {
      DATABASE_URL: db.url,
      MASTER_KEYS: a.config.masterKeys,
      JWT_SECRET: a.config.jwtSecret,
      AUDIT_SIGNING_KEYS: `${ka},${kb}`,
      LOG_LEVEL: 'warn',
    });
  const rowsOf = async (orgId: string) => ({
    checkpoints: await checkpointsOf(orgId),
    events: (await a.db.query<{ n: string }>(`SELECT count(*) AS n FROM config_events WHERE org_id = $1 AND action = 'audit.head_vouched'`, [orgId]))[0].n,
  });

  it('refuses any head but the current one, then signs it, records the act, and the instance signs again with its next batch', async () => {
    const org = await createOrgWithAdmin(a, 'Vouched head');
    await putSinchVoice(org.admin, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET);
    const reader = client(a.url, (await createApiKey(org.admin, ['READ_AUDIT'], 'reader')).token);
    await mintOneByOne(org.admin, 2);
    const honestSeq = await expectSignedThroughHeadWithin2s(org.orgId, Date.now());
    const unsignedBefore = await unsignedHeadsMetric(a);

    // A head nobody signed (as after an instance died between commit and checkpoint), and a mint on top: withheld.
    const forged = await forgeEntryAfterHead(org.orgId);
    await mintOneByOne(org.admin, 1);
    for (let i = 0; i < 150 && (await unsignedHeadsMetric(a)) < unsignedBefore + 1; i += 1) await sleep(20);
    expect(await unsignedHeadsMetric(a)).toBe(unsignedBefore + 1);
    const head = await headOf(org.orgId);
    expect(head.seq).toBe(forged.seq + 1);
    expect(await verify(reader)).toMatchObject({ ok: true, signedThroughSeq: honestSeq, unsignedTail: 2 });
    const hex = head.hash.toString('hex');
    const before = await rowsOf(org.orgId);

    // Usage errors: exit 2.
    for (const args of [
      ['--org', org.orgId, '--seq', String(head.seq)],
      ['--org', 'nope', '--seq', '1', '--hash', hex],
      ['--org', org.orgId, '--seq', '0', '--hash', hex],
      ['--org', org.orgId, '--seq', String(head.seq), '--hash', 'abc'],
    ]) {
      const result = await runCli(['audit:sign-head', ...args], { DATABASE_URL: db.url });
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 2, stderr: expect.stringContaining('audit:sign-head needs --org') });
    }
    // Not the current head (an older entry, or the right seq with another hash): exit 1, nothing written.
    const older = await signHead(org.orgId, forged.seq, hex);
    expect({ code: older.code, stderr: older.stderr }).toEqual({ code: 1, stderr: expect.stringContaining(`is entry ${head.seq} with hash ${hex}, not entry ${forged.seq}`) });
    const otherHash = await signHead(org.orgId, head.seq, 'ab'.repeat(32));
    expect({ code: otherHash.code, stderr: otherHash.stderr }).toEqual({ code: 1, stderr: expect.stringContaining('nothing signed') });
    expect(await rowsOf(org.orgId)).toEqual(before);

    // A chain that does not verify is refused too, even at its exact head (an entry edited past the append-only trigger).
    const editForged = async (userAgent: string) => {
      await a.db.query('ALTER TABLE mint_audit DISABLE TRIGGER USER');
      await a.db.query('UPDATE mint_audit SET user_agent = $3 WHERE org_id = $1 AND seq = $2', [org.orgId, forged.seq, userAgent]);
      await a.db.query('ALTER TABLE mint_audit ENABLE TRIGGER USER');
    };
    await editForged('edited');
    const broken = await signHead(org.orgId, head.seq, hex);
    expect({ code: broken.code, stderr: broken.stderr }).toEqual({ code: 1, stderr: expect.stringContaining(`entry ${forged.seq} was changed after it was written`) });
    expect(await rowsOf(org.orgId)).toEqual(before);
    await editForged(forged.userAgent!);

    // The head the operator inspected: signed with the primary key, and the act recorded.
    const signed = await signHead(org.orgId, head.seq, hex.toUpperCase());
    expect({ code: signed.code, stderr: signed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(signed.stdout).toContain(`Signed entry ${head.seq} of org ${org.orgId} with key "ka"`);
    const [row] = await a.db.query<{ hash: Buffer; key_id: string }>('SELECT hash, key_id FROM audit_checkpoints WHERE org_id = $1 AND seq = $2', [org.orgId, head.seq]);
    expect(row).toEqual({ hash: head.hash, key_id: 'ka' });
    expect((await checkpointsOf(org.orgId)).map((checkpoint) => checkpoint.seq)).toEqual([1, 2, head.seq]);
    expect(await verify(reader)).toMatchObject({ ok: true, checked: head.seq, signedThroughSeq: head.seq, unsignedTail: 0 });
    const events = await reader.get('/api/audit/events?action=audit.head_vouched');
    expectStatus(events, 200);
    expect(events.body.items).toEqual([
      expect.objectContaining({
        action: 'audit.head_vouched',
        actor: expect.objectContaining({ kind: 'operator' }),
        details: expect.objectContaining({ seq: head.seq, hash: hex, keyId: 'ka', previousSignedThroughSeq: honestSeq }),
      }),
    ]);
    // Signing it twice has nothing to add.
    const again = await signHead(org.orgId, head.seq, hex);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 1, stderr: expect.stringContaining('already covers') });

    // The running instance's next batch finds the checkpoint of the head it starts from and signs again.
    await mintOneByOne(org.admin, 1);
    expect(await expectSignedThroughHeadWithin2s(org.orgId, Date.now())).toBe(head.seq + 1);
    expect(await verify(reader)).toMatchObject({ ok: true, checked: head.seq + 1, signedThroughSeq: head.seq + 1, unsignedTail: 0 });
    expect(await unsignedHeadsMetric(a)).toBe(unsignedBefore + 1);
  });
});

describe('two instances writing one org in turn', () => {
  it('sign each other on: signed through the newest entry within 2 s after the load stops, nothing unsigned', async () => {
    b = await startSecondInstance(a, { config: { auditSigningKeys: `${kb},${ka}` } });
    const minterA = sharedOrg.admin;
    const minterB = client(b.url, sharedOrg.adminToken);
    for (let round = 0; round < 12; round += 1) {
      const responses = await Promise.all([...Array.from({ length: 3 }, () => minterA.get(SINCH_PATH)), ...Array.from({ length: 3 }, () => minterB.get(SINCH_PATH))]);
      for (const response of responses) expectStatus(response, 200);
    }
    const stoppedAt = Date.now();
    const seq = await expectSignedThroughHeadWithin2s(sharedOrg.orgId, stoppedAt);
    expect(seq).toBe(72);
    expect(await verify(sharedReader)).toMatchObject({ ok: true, firstBrokenId: null, checked: 72, signedThroughSeq: 72, unsignedTail: 0 });

    // Both instances moved the head and signed what they committed, each on top of the other's checkpoints.
    const keyIds = new Set((await checkpointsOf(sharedOrg.orgId)).map((checkpoint) => checkpoint.keyId));
    expect([...keyIds].sort()).toEqual(['ka', 'kb']);
    expect(await unsignedHeadsMetric(b)).toBe(0);
    expect(withheldWarnings(b)).toEqual([]);
    expect(withheldWarnings(a).filter((warning) => warning.orgId === sharedOrg.orgId)).toEqual([]);
  });
});

describe('an instance restarted on the same database with the same key', () => {
  it('continues signing the chains it finds signed, and still not the one with the forged tail', async () => {
    const forgedHead = await headOf(forgedOrg.orgId);
    const forgedSigned = (await verify(forgedReader)).signedThroughSeq;
    await mintOneByOne(legacyOrg.admin, 3);
    await expectSignedThroughHeadWithin2s(legacyOrg.orgId, Date.now());
    await a.db.query('DELETE FROM audit_checkpoints WHERE org_id = $1', [legacyOrg.orgId]);
    await a.close();
    a = await startTestApp({
      db,
      config: { auditSigningKeys: `${ka},${kb}`, masterKeys: b!.config.masterKeys, jwtSecret: b!.config.jwtSecret, operatorToken: b!.config.operatorToken },
    });
    await b!.close();
    b = undefined;
    sharedReader = client(a.url, sharedReaderToken);
    forgedReader = client(a.url, forgedReaderToken);
    const sharedBefore = (await headOf(sharedOrg.orgId)).seq;

    await mintOneByOne(client(a.url, sharedOrg.adminToken), 2);
    const seq = await expectSignedThroughHeadWithin2s(sharedOrg.orgId, Date.now());
    expect(seq).toBe(sharedBefore + 2);
    expect((await checkpointsOf(sharedOrg.orgId)).pop()).toEqual({ seq, keyId: 'ka' });
    expect(await verify(sharedReader)).toMatchObject({ ok: true, signedThroughSeq: seq, unsignedTail: 0 });

    // The restarted instance finds the forged org's head unsigned, as the first one left it.
    await mintOneByOne(client(a.url, forgedOrg.adminToken), 1);
    for (let i = 0; i < 150 && (await unsignedHeadsMetric(a)) < 1; i += 1) await sleep(20);
    expect(await unsignedHeadsMetric(a)).toBe(1);
    expect(withheldWarnings(a)).toEqual([expect.objectContaining({ orgId: forgedOrg.orgId, seq: forgedHead.seq })]);
    expect(await verify(forgedReader)).toMatchObject({ ok: true, signedThroughSeq: forgedSigned, unsignedTail: forgedHead.seq + 1 - forgedSigned });
  });

  it('signs on top of a chain that has no checkpoint at all (written before checkpoints existed): the first checkpoint vouches for it whole', async () => {
    const legacyReader = client(a.url, (await createApiKey(client(a.url, legacyOrg.adminToken), ['READ_AUDIT'], 'reader')).token);
    expect(await verify(legacyReader)).toMatchObject({ ok: true, checked: 3, checkpoints: 0, signedThroughSeq: null, unsignedTail: 3 });
    await mintOneByOne(client(a.url, legacyOrg.adminToken), 1);
    expect(await expectSignedThroughHeadWithin2s(legacyOrg.orgId, Date.now())).toBe(4);
    expect(await verify(legacyReader)).toMatchObject({ ok: true, checked: 4, checkpoints: 1, signedThroughSeq: 4, unsignedTail: 0 });
    expect(withheldWarnings(a).filter((warning) => warning.orgId === legacyOrg.orgId)).toEqual([]);
  });
});
