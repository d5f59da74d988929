import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { chainHash, ChainedContent, GENESIS_HASH } from '../mints/audit-chain';
import { signCheckpoint } from './audit-checkpoint';
import { AuditSigningKeys } from './audit-signing-keys';
import { verifyExport } from './export-verifier';

const ORG = randomUUID();
const keyValue = (id: string) => `${id}:${generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`;
const keys = AuditSigningKeys.parse(keyValue('k1'));

/** An export as the service writes it: `count` entries of a chain, newest first, checkpoints after the entries at `signedAt`. */
function exportLines(count: number, signedAt: number[], firstSeq = 1): string[] {
  const entries: Array<Record<string, unknown>> = [];
  let previous = firstSeq === 1 ? GENESIS_HASH : Buffer.alloc(32, 9);
  for (let seq = firstSeq; seq < firstSeq + count; seq += 1) {
    const content: ChainedContent = {
      id: randomUUID(),
      orgId: ORG,
      seq,
      at: new Date(Date.UTC(2026, 10, 26, 12, 0, seq)),
      provider: 'sinch',
      action: 'mint',
      actorKind: 'user',
      actorId: randomUUID(),
      subjectUserId: null,
      target: 'sinch:app',
      outcome: 'issued',
      code: null,
      tokenFingerprint: 'ffffffffffffffff',
      expiresAt: new Date(Date.UTC(2026, 10, 26, 12, 10, seq)),
      ip: '203.0.113.7',
      userAgent: 'test "agent", with commas',
      requestId: `req-${seq}`,
    };
    const hash = chainHash(previous, content);
    entries.push({
      type: 'entry',
      id: content.id,
      orgId: ORG,
      at: content.at.toISOString(),
      provider: content.provider,
      action: content.action,
      actor: { kind: content.actorKind, id: content.actorId },
      subjectUserId: content.subjectUserId,
      target: content.target,
      outcome: content.outcome,
      code: content.code,
      tokenFingerprint: content.tokenFingerprint,
      expiresAt: content.expiresAt!.toISOString(),
      ip: content.ip,
      userAgent: content.userAgent,
      requestId: content.requestId,
      seq,
      prevHash: previous.toString('hex'),
      hash: hash.toString('hex'),
    });
    previous = hash;
  }
  const lines: string[] = [];
  for (const entry of entries.reverse()) {
    lines.push(JSON.stringify(entry));
    if (signedAt.includes(entry.seq as number)) {
      const checkpoint = signCheckpoint(keys, { orgId: ORG, seq: entry.seq as number, hash: entry.hash as string, at: '2026-11-26T12:00:30.000Z' });
      lines.push(JSON.stringify({ type: 'checkpoint', ...checkpoint }));
    }
  }
  return lines;
}

async function* iterate(lines: string[]): AsyncGenerator<string> {
  yield* lines;
}

const verify = (lines: string[], publicKeys = keys.publicKeys) => verifyExport(iterate(lines), publicKeys);

describe('verifyExport', () => {
  it('accepts an untouched export and says what it checked', async () => {
    const result = await verify(exportLines(10, [3, 7]));
    expect(result).toEqual({
      ok: true,
      orgId: ORG,
      entries: 10,
      firstSeq: 1,
      lastSeq: 10,
      checkpoints: 2,
      keyIds: ['k1'],
      signedThroughSeq: 7,
      unsignedTail: 3,
      problem: null,
    });
  });

  it('accepts a time range that starts mid-chain, and an export signed up to its newest entry', async () => {
    expect(await verify(exportLines(5, [9], 5))).toMatchObject({ ok: true, firstSeq: 5, lastSeq: 9, signedThroughSeq: 9, unsignedTail: 0 });
  });

  it('counts an export with no checkpoint as unsigned, not broken', async () => {
    expect(await verify(exportLines(4, []))).toMatchObject({ ok: true, checkpoints: 0, signedThroughSeq: null, unsignedTail: 4 });
  });

  it('breaks on an edited entry line, naming the line', async () => {
    const lines = exportLines(10, [3, 7]);
    // Line 5 is entry 7 (entries 10, 9, 8, then 7 and its checkpoint).
    const entry = JSON.parse(lines[3]);
    expect(entry.seq).toBe(7);
    lines[3] = JSON.stringify({ ...entry, outcome: 'denied' });
    expect(await verify(lines)).toMatchObject({ ok: false, problem: { line: 4, message: expect.stringMatching(/entry 7 was changed/) } });
  });

  it('breaks on an entry rewritten with a recomputed chain: the checkpoint signed another hash', async () => {
    const lines = exportLines(6, [5]);
    // Rewrite entries 1..6 from entry 2 on, as someone with the algorithm but not the key would.
    const parsed = lines.map((line) => JSON.parse(line));
    const entries = parsed.filter((line) => line.type === 'entry').reverse();
    entries[1].userAgent = 'rewritten';
    for (let i = 1; i < entries.length; i += 1) {
      const e = entries[i];
      e.prevHash = entries[i - 1].hash;
      const content: ChainedContent = {
        ...e,
        at: new Date(e.at),
        expiresAt: e.expiresAt ? new Date(e.expiresAt) : null,
        actorKind: e.actor.kind,
        actorId: e.actor.id,
      };
      e.hash = chainHash(Buffer.from(e.prevHash, 'hex'), content).toString('hex');
    }
    const result = await verify(parsed.map((line) => JSON.stringify(line)));
    expect(result).toMatchObject({ ok: false, problem: { message: expect.stringMatching(/entry 5 is not the entry that was signed/) } });
  });

  it('breaks on a removed entry line', async () => {
    const lines = exportLines(10, [3, 7]);
    lines.splice(5, 1); // entry 6
    expect(await verify(lines)).toMatchObject({ ok: false, problem: { message: expect.stringMatching(/entries 6\.\.6 are missing/) } });
  });

  it('breaks on a checkpoint with a flipped signature byte, one of an unknown key, and one out of place', async () => {
    const lines = exportLines(10, [3, 7]);
    const at = lines.findIndex((line) => line.includes('"type":"checkpoint"'));
    const checkpoint = JSON.parse(lines[at]);
    const signature = Buffer.from(checkpoint.signature, 'base64');
    signature[0] ^= 0xff;
    const flipped = [...lines];
    flipped[at] = JSON.stringify({ ...checkpoint, signature: signature.toString('base64') });
    expect(await verify(flipped)).toMatchObject({ ok: false, problem: { line: at + 1, message: expect.stringMatching(/valid signature/) } });

    expect(await verify(lines, AuditSigningKeys.parse(keyValue('other')).publicKeys)).toMatchObject({
      ok: false,
      problem: { message: expect.stringMatching(/not a trusted audit signing key/) },
    });

    const moved = [...lines];
    moved.splice(at, 1);
    moved.splice(0, 0, lines[at]);
    expect(await verify(moved)).toMatchObject({ ok: false, problem: { line: 1, message: expect.stringMatching(/does not directly follow/) } });
  });

  it('breaks on a line of another org, a line that is not JSON, and a plain export without checkpoints', async () => {
    const lines = exportLines(3, [2]);
    expect(await verify([...lines, JSON.stringify({ ...JSON.parse(lines[0]), orgId: randomUUID() })])).toMatchObject({ ok: false, problem: { line: 5 } });
    expect(await verify([lines[0], '{oops'])).toMatchObject({ ok: false, problem: { line: 2, message: 'not a JSON line' } });
    const { type: _type, seq: _seq, prevHash: _prev, hash: _hash, ...plain } = JSON.parse(lines[0]);
    expect(await verify([JSON.stringify(plain)])).toMatchObject({ ok: false, problem: { message: expect.stringMatching(/checkpoints=true/) } });
  });
});
