import { createPublicKey, generateKeyPairSync, randomUUID, sign, verify as verifySignature } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainHash, ChainedContent } from '../libs/audit/src/mints/audit-chain';
import { chainedContentOf, MINT_AUDIT_COLUMNS, MintAuditRow } from '../libs/audit/src/mints/mint-audit.repository';
import { expectError, expectStatus, expectValidation, UUID_PATTERN } from './support/assertions';
import { cleanupCli, runCli } from './support/cli-process';
import { createOrgWithAdmin, OrgFixture } from './support/fixtures';
import { client, Client } from './support/http';
import { createApiKey, putSinchVoice, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';
import { createTestDatabase, TestDatabase } from './support/test-database';
import type { ChainVerification } from '../libs/audit/src/mints/audit-verifier.service';
import { insertChainedEntry } from './support/audit';

/**
 * Signed audit checkpoints (issue 11.6): after each committed batch the service signs every touched org's
 * chain head with an Ed25519 key that never enters the database. Someone who can write the database —
 * here the owner, as the probe did with the service's own role — can rewrite entries and the chain head
 * together so that the hash chain alone still verifies; the checkpoints catch it, except for entries
 * after the newest checkpoint, which verify counts as the unsigned tail. Exports carry the checkpoints
 * and verify offline with the published public keys; keys rotate.
 */

const SINCH_PATH = '/api/calls/token/sinch';

type Row = MintAuditRow & { prev_hash: Buffer; hash: Buffer };

/** What GET /api/audit/verify answers. */
type Verification = ChainVerification;

const keyPair = () => generateKeyPairSync('ed25519').privateKey;
const keyA = keyPair();
const keyB = keyPair();
const ringEntry = (id: string, key = keyPair()) => `${id}:${key.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`;
const spki = (key: ReturnType<typeof keyPair>) => createPublicKey(key).export({ format: 'der', type: 'spki' }).toString('base64');

let db: TestDatabase;
let app: TestApp;
let org: OrgFixture;
let other: OrgFixture;
/** Org's API key that mints and reads the audit; the other org's reader. */
let reader: Client;
let readerToken: string;
let otherReader: Client;
let workDir: string;

async function verify(who: Client = reader): Promise<Verification> {
  const response = await who.get('/api/audit/verify');
  expectStatus(response, 200);
  return response.body;
}

async function mintRounds(minter: Client, rounds: number, perRound: number): Promise<void> {
  for (let round = 0; round < rounds; round += 1) {
    const responses = await Promise.all(Array.from({ length: perRound }, () => minter.get(SINCH_PATH)));
    for (const response of responses) expectStatus(response, 200);
  }
}

async function headOf(orgId: string): Promise<{ seq: number; hash: Buffer }> {
  const [head] = await db.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_chain_heads WHERE org_id = $1', [orgId]);
  return { seq: Number(head.seq), hash: head.hash };
}

/**
 * Waits (at most 2 s, the contract's bound, from when the mints returned) for a checkpoint of the org's
 * newest entry to be stored, then for verify to report it.
 */
async function expectSignedThroughHead(orgId: string, who: Client = reader): Promise<Verification> {
  const started = Date.now();
  const head = await headOf(orgId);
  for (;;) {
    const [row] = await db.query<{ hash: Buffer }>('SELECT hash FROM audit_checkpoints WHERE org_id = $1 AND seq = $2', [orgId, head.seq]);
    if (row) {
      expect(row.hash).toEqual(head.hash);
      break;
    }
    if (Date.now() - started > 2_000) throw new Error(`no checkpoint of entry ${head.seq} within 2 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const result = await verify(who);
  expect(result).toMatchObject({ ok: true, firstBrokenId: null, checked: head.seq, signedThroughSeq: head.seq, unsignedTail: 0 });
  return result;
}

async function chainRows(orgId: string): Promise<Row[]> {
  return db.query<Row>(`SELECT ${MINT_AUDIT_COLUMNS}, prev_hash, hash FROM mint_audit WHERE org_id = $1 ORDER BY seq`, [orgId]);
}

async function checkpointSeqs(orgId: string): Promise<number[]> {
  return (await db.query<{ seq: string }>('SELECT seq FROM audit_checkpoints WHERE org_id = $1 ORDER BY seq', [orgId])).map((row) => Number(row.seq));
}

/** What a checkpoint's signature covers, written out by hand from the contract (RFC 8785: sorted keys, no whitespace). */
function signedBytes(checkpoint: { at: string; hash: string; keyId: string; orgId: string; seq: number }): Buffer {
  return Buffer.from(`{"at":"${checkpoint.at}","hash":"${checkpoint.hash}","keyId":"${checkpoint.keyId}","orgId":"${checkpoint.orgId}","seq":${checkpoint.seq}}`, 'utf8');
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp({ db, config: { auditSigningKeys: ringEntry('key-a', keyA) } });
  org = await createOrgWithAdmin(app, 'Checkpoints');
  other = await createOrgWithAdmin(app, 'Checkpoints other');
  for (const fixture of [org, other]) await putSinchVoice(fixture.admin, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET);
  readerToken = (await createApiKey(org.admin, ['CREATE_CALL_TOKEN', 'READ_AUDIT'], 'checkpoint reader')).token;
  reader = client(app.url, readerToken);
  otherReader = client(app.url, (await createApiKey(other.admin, ['READ_AUDIT'], 'other reader')).token);
  workDir = mkdtempSync(join(tmpdir(), 'mintline-checkpoints-'));
});

afterAll(async () => {
  await db?.query('ALTER TABLE mint_audit ENABLE TRIGGER USER').catch(() => undefined);
  await app?.close();
  await db?.drop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  cleanupCli();
});

describe('checkpoints of committed batches', () => {
  it('an org with no entries verifies with nothing signed and nothing unsigned', async () => {
    expect(await verify()).toMatchObject({ ok: true, checked: 0, firstBrokenId: null, checkpoints: 0, signedThroughSeq: null, unsignedTail: 0 });
  });

  it('signs the newest entry within 2 s of each batch; verify checks every checkpoint', async () => {
    await mintRounds(org.admin, 4, 5);
    await mintRounds(other.admin, 1, 3);
    const result = await expectSignedThroughHead(org.orgId);
    const seqs = await checkpointSeqs(org.orgId);
    expect(result.checkpoints).toBe(seqs.length);
    // At least one checkpoint per round of concurrent mints (a round may span batches), never more than one per entry.
    expect(seqs.length).toBeGreaterThanOrEqual(4);
    expect(seqs.length).toBeLessThanOrEqual(20);
    await expectSignedThroughHead(other.orgId, otherReader);
  });

  it('stores only what a checkpoint is: org, seq, hash, time, key id, signature — no key material', async () => {
    const rows = await db.query<Record<string, unknown>>('SELECT * FROM audit_checkpoints WHERE org_id = $1 ORDER BY seq', [org.orgId]);
    const entries = await chainRows(org.orgId);
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(['at', 'hash', 'key_id', 'org_id', 'seq', 'signature']);
      expect(row.key_id).toBe('key-a');
      expect((row.signature as Buffer).length).toBe(64);
      // Each sits on the chain: the entry at its seq has exactly its hash.
      expect(entries.find((entry) => entry.seq === row.seq)!.hash).toEqual(row.hash);
      // Signed by key A over the contract's canonical form (checked here with node:crypto directly).
      const checkpoint = { at: (row.at as Date).toISOString(), hash: (row.hash as Buffer).toString('hex'), keyId: 'key-a', orgId: org.orgId, seq: Number(row.seq) };
      expect(verifySignature(null, signedBytes(checkpoint), createPublicKey(keyA), row.signature as Buffer)).toBe(true);
    }
    const dump = (await db.query<{ t: string }>('SELECT string_agg(t::text, $1) AS t FROM audit_checkpoints t', ['\n']))[0].t;
    const privateDer = keyA.export({ format: 'der', type: 'pkcs8' });
    expect(dump).not.toContain(privateDer.toString('base64'));
    expect(dump).not.toContain(privateDer.subarray(-32).toString('hex'));
  });

  it('publishes the public keys to READ_AUDIT only', async () => {
    const response = await reader.get('/api/audit/public-keys');
    expectStatus(response, 200);
    expect(response.body).toEqual([{ keyId: 'key-a', algorithm: 'Ed25519', publicKey: spki(keyA) }]);
    const minterOnly = client(app.url, (await createApiKey(org.admin, ['CREATE_CALL_TOKEN'], 'minter only')).token);
    expectError(await minterOnly.get('/api/audit/public-keys'), 403, 'MISSING_SCOPE');
    expectError(await client(app.url).get('/api/audit/public-keys'), 401, 'UNAUTHORIZED');
  });
});

describe('a checkpoint that cannot be stored', () => {
  afterAll(async () => {
    await db.query('GRANT INSERT ON audit_checkpoints TO mintline_app');
  });

  it('does not fail the mint (committed already); it is logged, and the next batch signs a head that covers it', async () => {
    const signedBefore = (await headOf(org.orgId)).seq;
    // The service's role loses the right to store checkpoints for a while.
    await db.query('REVOKE INSERT ON audit_checkpoints FROM mintline_app');
    await mintRounds(org.admin, 1, 2);
    const unsigned = (await headOf(org.orgId)).seq;
    expect(unsigned).toBe(signedBefore + 2);
    for (let i = 0; i < 100 && !app.logs.join('').includes('audit checkpoints failed to be stored'); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(app.logs.join('')).toContain('audit checkpoints failed to be stored');
    expect(await verify()).toMatchObject({ ok: true, checked: unsigned, signedThroughSeq: signedBefore, unsignedTail: 2 });

    await db.query('GRANT INSERT ON audit_checkpoints TO mintline_app');
    await mintRounds(org.admin, 1, 1);
    await expectSignedThroughHead(org.orgId);
  });
});

describe('the OpenAPI document', () => {
  it('describes the public keys, the new verify fields and the checkpoints export parameter', async () => {
    const openapi: any = await (await fetch(`${app.url}/docs/openapi.json`)).json();
    const resolve = (schema: any): any => (schema?.$ref ? openapi.components.schemas[schema.$ref.split('/').pop()] : schema);
    const publicKeys = openapi.paths['/api/audit/public-keys'].get;
    expect(Object.keys(publicKeys.responses).sort()).toEqual(['200', '400', '401', '403', '429', '500', '503']);
    const list = publicKeys.responses['200'].content['application/json'].schema;
    expect(list.type).toBe('array');
    expect(resolve(list.items).required).toEqual(expect.arrayContaining(['keyId', 'algorithm', 'publicKey']));
    const verification = resolve(openapi.paths['/api/audit/verify'].get.responses['200'].content['application/json'].schema);
    expect(verification.required).toEqual(expect.arrayContaining(['ok', 'checked', 'firstBrokenId', 'checkpoints', 'signedThroughSeq', 'unsignedTail']));
    expect(verification.properties.signedThroughSeq).toMatchObject({ type: 'integer', nullable: true });
    const exportRoute = openapi.paths['/api/audit/mints/export'].get;
    expect(exportRoute.parameters.map((parameter: any) => parameter.name)).toContain('checkpoints');
    expect(Object.keys(exportRoute.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '503']));
  });
});

describe('forgeries written with database access', () => {
  beforeAll(async () => {
    await db.query('ALTER TABLE mint_audit DISABLE TRIGGER USER');
  });

  afterAll(async () => {
    await db.query('ALTER TABLE mint_audit ENABLE TRIGGER USER');
  });

  afterEach(async () => {
    // Each case undoes its damage: the chain verifies again, signed through its head.
    await expectSignedThroughHead(org.orgId);
  });

  /** Rewrites entries from index `from` on with a recomputed chain, as an attacker holding the code would, and moves the head. */
  async function rewriteFrom(rows: Row[], from: number, change: (content: ChainedContent) => void): Promise<void> {
    let previous = rows[from].prev_hash;
    for (const row of rows.slice(from)) {
      const content = chainedContentOf(row);
      if (row === rows[from]) change(content);
      const hash = chainHash(previous, content);
      await db.query('UPDATE mint_audit SET user_agent = $1, prev_hash = $2, hash = $3 WHERE org_id = $4 AND id = $5', [content.userAgent, previous, hash, org.orgId, row.id]);
      previous = hash;
    }
    await db.query('UPDATE audit_chain_heads SET hash = $1 WHERE org_id = $2', [previous, org.orgId]);
  }

  async function restore(rows: Row[]): Promise<void> {
    for (const row of rows) {
      await db.query('UPDATE mint_audit SET user_agent = $1, prev_hash = $2, hash = $3 WHERE org_id = $4 AND id = $5', [
        row.user_agent,
        row.prev_hash,
        row.hash,
        org.orgId,
        row.id,
      ]);
    }
    await db.query('UPDATE audit_chain_heads SET hash = $1 WHERE org_id = $2', [rows[rows.length - 1].hash, org.orgId]);
  }

  it('(a) an entry edited before the last checkpoint, with every later hash and the head rewritten: ok false', async () => {
    const rows = await chainRows(org.orgId);
    const seqs = await checkpointSeqs(org.orgId);
    const victim = rows[2];
    try {
      await rewriteFrom(rows, 2, (content) => {
        content.userAgent = 'rewritten by someone with database access';
      });
      // The hash chain alone no longer tells: every link and the head agree.
      const rewritten = await chainRows(org.orgId);
      for (let i = 1; i < rewritten.length; i += 1) expect(rewritten[i].prev_hash).toEqual(rewritten[i - 1].hash);
      expect((await headOf(org.orgId)).hash).toEqual(rewritten[rewritten.length - 1].hash);

      const result = await verify();
      // It breaks at the first checkpoint at or after the edited entry: that entry is not the one signed.
      const firstCheckpointAfter = seqs.find((seq) => seq >= Number(victim.seq))!;
      expect(result).toMatchObject({ ok: false, firstBrokenId: rows[firstCheckpointAfter - 1].id, checked: firstCheckpointAfter - 1 });
      expect(result.firstBrokenId).toMatch(UUID_PATTERN);
      expect(result.detail).toMatch(/signed another hash/);
      // The other org is not affected.
      expect((await verify(otherReader)).ok).toBe(true);
    } finally {
      await restore(rows);
    }
  });

  it('(b) an entry appended after the last checkpoint with a correct link and a moved head: ok, counted in unsignedTail', async () => {
    const rows = await chainRows(org.orgId);
    const newest = rows[rows.length - 1];
    const content: ChainedContent = {
      ...chainedContentOf(newest),
      id: randomUUID(),
      seq: Number(newest.seq) + 1,
      at: new Date(newest.at.getTime() + 1),
      userAgent: 'forged',
      requestId: 'forged',
    };
    try {
      const hash = await insertChainedEntry(db, content, newest.hash);
      await db.query('UPDATE audit_chain_heads SET seq = $1, hash = $2 WHERE org_id = $3', [content.seq, hash, org.orgId]);
      expect(await verify()).toMatchObject({
        ok: true,
        firstBrokenId: null,
        checked: content.seq,
        signedThroughSeq: Number(newest.seq),
        unsignedTail: 1,
      });
    } finally {
      await db.query('DELETE FROM mint_audit WHERE org_id = $1 AND id = $2', [org.orgId, content.id]);
      await db.query('UPDATE audit_chain_heads SET seq = $1, hash = $2 WHERE org_id = $3', [newest.seq, newest.hash, org.orgId]);
    }
  });

  it('(c) a forged checkpoint row — a bad signature, or a good one by an unknown key: ok false', async () => {
    const rows = await chainRows(org.orgId);
    const seq = (await checkpointSeqs(org.orgId))[1];
    const [stored] = await db.query<{ signature: Buffer; key_id: string; at: Date }>('SELECT signature, key_id, at FROM audit_checkpoints WHERE org_id = $1 AND seq = $2', [
      org.orgId,
      seq,
    ]);
    try {
      const flipped = Buffer.from(stored.signature);
      flipped[0] ^= 0x01;
      await db.query('UPDATE audit_checkpoints SET signature = $1 WHERE org_id = $2 AND seq = $3', [flipped, org.orgId, seq]);
      expect(await verify()).toMatchObject({ ok: false, firstBrokenId: rows[seq - 1].id, checked: seq - 1, detail: expect.stringMatching(/valid signature/) });

      // Signed properly, but with a key of the attacker's own, which the service was never configured with.
      const intruder = keyPair();
      const at = new Date().toISOString();
      const forged = { at, hash: rows[seq - 1].hash.toString('hex'), keyId: 'intruder', orgId: org.orgId, seq };
      await db.query('UPDATE audit_checkpoints SET key_id = $1, at = $2, signature = $3 WHERE org_id = $4 AND seq = $5', [
        'intruder',
        at,
        sign(null, signedBytes(forged), intruder),
        org.orgId,
        seq,
      ]);
      expect(await verify()).toMatchObject({ ok: false, firstBrokenId: rows[seq - 1].id, detail: expect.stringMatching(/not a trusted audit signing key/) });
    } finally {
      await db.query('UPDATE audit_checkpoints SET signature = $1, key_id = $2, at = $3 WHERE org_id = $4 AND seq = $5', [
        stored.signature,
        stored.key_id,
        stored.at,
        org.orgId,
        seq,
      ]);
    }
  });

  it('(d) the newest signed entries removed and the head moved back to match: ok false', async () => {
    const [newest] = await db.query<Record<string, unknown>>('SELECT * FROM mint_audit WHERE org_id = $1 ORDER BY seq DESC LIMIT 1', [org.orgId]);
    const rows = await chainRows(org.orgId);
    const before = rows[rows.length - 2];
    try {
      await db.query('DELETE FROM mint_audit WHERE org_id = $1 AND id = $2', [org.orgId, newest.id]);
      await db.query('UPDATE audit_chain_heads SET seq = $1, hash = $2 WHERE org_id = $3', [before.seq, before.hash, org.orgId]);
      expect(await verify()).toMatchObject({ ok: false, firstBrokenId: null, detail: expect.stringMatching(/signed entries were removed/) });
    } finally {
      const columns = Object.keys(newest);
      await db.query(
        `INSERT INTO mint_audit (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        columns.map((column) => newest[column]),
      );
      await db.query('UPDATE audit_chain_heads SET seq = $1, hash = $2 WHERE org_id = $3', [newest.seq, newest.hash, org.orgId]);
    }
  });
});

describe('export with checkpoints, verified offline', () => {
  let lines: string[];
  let exportFile: string;
  let keysFile: string;

  const cli = (file: string, keys = keysFile) => runCli(['audit:verify-export', file, '--public-keys', keys]);
  const tampered = (name: string, change: (copy: string[]) => void): string => {
    const copy = [...lines];
    change(copy);
    const file = join(workDir, `${name}.ndjson`);
    writeFileSync(file, `${copy.join('\n')}\n`);
    return file;
  };

  beforeAll(async () => {
    await mintRounds(org.admin, 2, 3);
    await expectSignedThroughHead(org.orgId);
    const response = await reader.get('/api/audit/mints/export?format=ndjson&checkpoints=true');
    expectStatus(response, 200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    lines = response.text.split('\n').filter((line) => line !== '');
    exportFile = join(workDir, 'export.ndjson');
    writeFileSync(exportFile, response.text);
    keysFile = join(workDir, 'public-keys.json');
    writeFileSync(keysFile, (await reader.get('/api/audit/public-keys')).text);
  });

  it('interleaves each checkpoint directly after the entry it covers; entry lines carry seq, prevHash and hash', async () => {
    const rows = await chainRows(org.orgId);
    const seqs = await checkpointSeqs(org.orgId);
    const parsed = lines.map((line) => JSON.parse(line));
    const entries = parsed.filter((line) => line.type === 'entry');
    const checkpoints = parsed.filter((line) => line.type === 'checkpoint');
    expect(entries.length + checkpoints.length).toBe(parsed.length);
    // Newest first, the whole chain, each with its place in it.
    expect(entries.map((entry) => entry.seq)).toEqual(rows.map((row) => Number(row.seq)).reverse());
    for (const entry of entries) {
      const row = rows[entry.seq - 1];
      expect(entry).toMatchObject({ id: row.id, orgId: org.orgId, prevHash: row.prev_hash.toString('hex'), hash: row.hash.toString('hex') });
    }
    expect(checkpoints.map((checkpoint) => checkpoint.seq).sort((x, y) => x - y)).toEqual(seqs);
    parsed.forEach((line, index) => {
      if (line.type !== 'checkpoint') return;
      expect(Object.keys(line).sort()).toEqual(['at', 'hash', 'keyId', 'orgId', 'seq', 'signature', 'type']);
      expect(parsed[index - 1]).toMatchObject({ type: 'entry', seq: line.seq, hash: line.hash });
      expect(line.signature).toMatch(/^[A-Za-z0-9+/]{86}==$/);
      expect(verifySignature(null, signedBytes(line), createPublicKey(keyA), Buffer.from(line.signature, 'base64'))).toBe(true);
    });
    // Without checkpoints=true the export is as before.
    const plain = await reader.get('/api/audit/mints/export?format=ndjson');
    const first = JSON.parse(plain.text.split('\n')[0]);
    expect(first).not.toHaveProperty('type');
    expect(first).not.toHaveProperty('hash');
  });

  it('refuses checkpoints=true with CSV, with a filter that would leave holes in the chain, or a value that is not a boolean', async () => {
    expectValidation(await reader.get('/api/audit/mints/export?format=csv&checkpoints=true'), 'checkpoints');
    expectValidation(await reader.get('/api/audit/mints/export?format=ndjson&checkpoints=true&provider=sinch'), 'provider');
    expectValidation(await reader.get('/api/audit/mints/export?format=ndjson&checkpoints=yes'), 'checkpoints');
    // A time range is a contiguous stretch of the chain: allowed.
    const ranged = await reader.get(`/api/audit/mints/export?format=ndjson&checkpoints=true&from=${encodeURIComponent('2000-01-01T00:00:00.000Z')}`);
    expectStatus(ranged, 200);
    expect(ranged.text.split('\n').filter((line) => line !== '')).toEqual(lines);
  });

  it('npm run cli -- audit:verify-export: exit 0 on the untouched export, saying what it checked', async () => {
    const head = await headOf(org.orgId);
    const run = await cli(exportFile);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`Entries: ${head.seq} (seq 1..${head.seq}), each hash recomputed`);
    expect(run.stdout).toContain(`Checkpoints: ${(await checkpointSeqs(org.orgId)).length} valid signatures (keys key-a)`);
    expect(run.stdout).toContain(`Signed through: entry ${head.seq} and every entry before it in the file; 0 newer entries unsigned`);
    expect(run.stdout).toContain('Result: OK');
  });

  it('exit 1 on a tampered copy: an edited entry line, a removed line, a checkpoint with a flipped signature byte, or keys that did not sign it', async () => {
    const middleEntry = lines.findIndex((line, index) => index > lines.length / 2 && JSON.parse(line).type === 'entry');
    const edited = tampered('edited', (copy) => {
      copy[middleEntry] = JSON.stringify({ ...JSON.parse(copy[middleEntry]), outcome: 'denied' });
    });
    const removed = tampered('removed', (copy) => {
      copy.splice(middleEntry, 1);
    });
    const checkpointLine = lines.findIndex((line) => JSON.parse(line).type === 'checkpoint');
    const flipped = tampered('flipped', (copy) => {
      const checkpoint = JSON.parse(copy[checkpointLine]);
      const signature = Buffer.from(checkpoint.signature, 'base64');
      signature[signature.length - 1] ^= 0x01;
      copy[checkpointLine] = JSON.stringify({ ...checkpoint, signature: signature.toString('base64') });
    });
    const otherKeys = join(workDir, 'other-keys.json');
    writeFileSync(otherKeys, JSON.stringify([{ keyId: 'key-a', algorithm: 'Ed25519', publicKey: spki(keyPair()) }]));

    const runs = await Promise.all([cli(edited), cli(removed), cli(flipped), cli(exportFile, otherKeys)]);
    for (const run of runs) {
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/Result: BROKEN at line \d+: /);
    }
    expect(runs[0].stdout).toContain(`BROKEN at line ${middleEntry + 1}: entry ${JSON.parse(lines[middleEntry]).seq} was changed`);
    // Without the entry, either the chain has a gap or the entry's checkpoint now follows the wrong entry.
    const removedWasSigned = JSON.parse(lines[middleEntry + 1] ?? '{}').type === 'checkpoint';
    expect(runs[1].stdout).toMatch(removedWasSigned ? /does not directly follow the entry it covers/ : /are missing/);
    expect(runs[2].stdout).toMatch(/does not carry a valid signature/);
    expect(runs[3].stdout).toMatch(/does not carry a valid signature/);
  });

  it('exit 2 without --public-keys; it never needed a database', async () => {
    const run = await runCli(['audit:verify-export', exportFile]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--public-keys/);
  });
});

describe('key rotation', () => {
  it('signs with A, then after a restart with B,A signs with B; verify holds across both, public-keys lists both', async () => {
    const signedByA = await checkpointSeqs(org.orgId);
    await app.close();
    app = await startTestApp({
      db,
      config: {
        auditSigningKeys: `${ringEntry('key-b', keyB)},${ringEntry('key-a', keyA)}`,
        masterKeys: app.config.masterKeys,
        jwtSecret: app.config.jwtSecret,
        operatorToken: app.operatorToken,
      },
    });
    reader = client(app.url, readerToken);
    await mintRounds(client(app.url, org.adminToken), 2, 4);
    const result = await expectSignedThroughHead(org.orgId);
    const keyIds = await db.query<{ key_id: string; n: number }>(
      'SELECT key_id, count(*)::int AS n FROM audit_checkpoints WHERE org_id = $1 GROUP BY key_id ORDER BY key_id',
      [org.orgId],
    );
    expect(keyIds.map((row) => row.key_id)).toEqual(['key-a', 'key-b']);
    expect(keyIds.find((row) => row.key_id === 'key-a')!.n).toBe(signedByA.length);
    expect(result.checkpoints).toBe(keyIds[0].n + keyIds[1].n);

    const keys = await reader.get('/api/audit/public-keys');
    expectStatus(keys, 200);
    expect(keys.body).toEqual([
      { keyId: 'key-b', algorithm: 'Ed25519', publicKey: spki(keyB) },
      { keyId: 'key-a', algorithm: 'Ed25519', publicKey: spki(keyA) },
    ]);

    // Offline too: an export spanning both keys verifies with the published list.
    const file = join(workDir, 'rotated.ndjson');
    writeFileSync(file, (await reader.get('/api/audit/mints/export?format=ndjson&checkpoints=true')).text);
    const keysFile = join(workDir, 'rotated-keys.json');
    writeFileSync(keysFile, keys.text);
    const run = await runCli(['audit:verify-export', file, '--public-keys', keysFile]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/keys key-b, key-a|keys key-a, key-b/);
  });
});
