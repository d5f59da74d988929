import type { KeyObject } from 'node:crypto';
import { chainHash, ChainedContent, GENESIS_HASH } from '../mints/audit-chain';
import { Checkpoint, checkCheckpointSignature, describeCheckpointFailure } from './audit-checkpoint';

/** What an offline verification of an export with checkpoints found. */
export interface ExportVerification {
  ok: boolean;
  orgId: string | null;
  /** Entry lines whose hash was recomputed and linked to their neighbours. */
  entries: number;
  /** The seq range the entries span, newest last; null without entries. */
  firstSeq: number | null;
  lastSeq: number | null;
  /** Checkpoint lines whose signature and entry were checked and found right. */
  checkpoints: number;
  /** Key ids whose signatures were found valid. */
  keyIds: string[];
  /** The newest entry a valid checkpoint vouches for (and so, through the chain, every older entry in the file). */
  signedThroughSeq: number | null;
  /** Entries newer than the newest checkpoint: linked, but signed by nothing in the file. */
  unsignedTail: number;
  /** Where the export breaks: the 1-based line and what is wrong there. */
  problem: { line: number; message: string } | null;
}

const HEX_64 = /^[0-9a-f]{64}$/;

class Broken extends Error {}

/**
 * Verifies `GET /api/audit/mints/export?format=ndjson&checkpoints=true` without a database, line by line
 * in the order the export writes them (newest entry first), so memory stays flat however long the file:
 * - every entry's hash recomputes from its prevHash and content (the service's own chain hash);
 * - consecutive entries are consecutive seqs and each links to the one before it (its prevHash is that
 *   entry's hash); seq 1 links to the genesis;
 * - every checkpoint directly follows the entry it covers, names its org and seq, has its hash, and
 *   carries a valid Ed25519 signature of one of `publicKeys` (the published keys, given by the verifier).
 * A checkpoint vouches for its entry and, through the links, for every older entry in the file; entries
 * newer than the newest checkpoint are counted as the unsigned tail.
 */
export async function verifyExport(lines: AsyncIterable<string>, publicKeys: ReadonlyMap<string, KeyObject>): Promise<ExportVerification> {
  const result: ExportVerification = {
    ok: true,
    orgId: null,
    entries: 0,
    firstSeq: null,
    lastSeq: null,
    checkpoints: 0,
    keyIds: [],
    signedThroughSeq: null,
    unsignedTail: 0,
    problem: null,
  };
  const keyIds = new Set<string>();
  /** The entry on the line before (the newer neighbour), and whether the line before was that entry. */
  let newer: { seq: number; prevHash: string; hash: string } | null = null;
  let previousLineWasEntry = false;
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber += 1;
      if (line.trim() === '') continue;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Broken('not a JSON line');
      }
      if (record === null || typeof record !== 'object' || Array.isArray(record)) throw new Broken('not a JSON object');
      const orgId = text(record, 'orgId');
      if (result.orgId === null) result.orgId = orgId;
      else if (orgId !== result.orgId) throw new Broken(`names org ${orgId}, but the export is org ${result.orgId}'s`);

      if (record.type === 'entry') {
        const entry = entryOf(record);
        if (!chainHash(Buffer.from(entry.prevHash, 'hex'), entry.content).equals(Buffer.from(entry.hash, 'hex'))) {
          throw new Broken(`entry ${entry.content.seq} was changed after it was written: its hash does not recompute from its content`);
        }
        if (newer) {
          if (newer.seq !== entry.content.seq + 1) {
            throw new Broken(
              newer.seq > entry.content.seq + 1
                ? `entries ${entry.content.seq + 1}..${newer.seq - 1} are missing between this entry and the one before it in the file`
                : `entry ${entry.content.seq} is out of place after entry ${newer.seq} (the export lists the newest entry first)`,
            );
          }
          if (newer.prevHash !== entry.hash) throw new Broken(`entry ${newer.seq} does not follow from entry ${entry.content.seq}`);
        } else {
          result.lastSeq = entry.content.seq;
        }
        if (entry.content.seq === 1 && entry.prevHash !== GENESIS_HASH.toString('hex')) throw new Broken('entry 1 does not start from the genesis hash');
        result.entries += 1;
        result.firstSeq = entry.content.seq;
        if (result.signedThroughSeq === null) result.unsignedTail += 1;
        newer = { seq: entry.content.seq, prevHash: entry.prevHash, hash: entry.hash };
        previousLineWasEntry = true;
      } else if (record.type === 'checkpoint') {
        const checkpoint = checkpointOf(record);
        if (!newer || !previousLineWasEntry || newer.seq !== checkpoint.seq) {
          throw new Broken(`the checkpoint at entry ${checkpoint.seq} does not directly follow the entry it covers`);
        }
        const signature = checkCheckpointSignature(publicKeys, checkpoint);
        if (!signature.ok) throw new Broken(describeCheckpointFailure(checkpoint, signature.reason));
        if (checkpoint.hash !== newer.hash) throw new Broken(`entry ${checkpoint.seq} is not the entry that was signed: the checkpoint signed another hash`);
        result.checkpoints += 1;
        keyIds.add(checkpoint.keyId);
        if (result.signedThroughSeq === null) {
          result.signedThroughSeq = checkpoint.seq;
          // The entry just counted as unsigned is the one this checkpoint signs.
          result.unsignedTail -= 1;
        }
        previousLineWasEntry = false;
      } else {
        throw new Broken('is neither an entry line nor a checkpoint line ("type" must be "entry" or "checkpoint"; export with checkpoints=true)');
      }
    }
  } catch (error) {
    if (!(error instanceof Broken)) throw error;
    result.ok = false;
    result.problem = { line: lineNumber, message: error.message };
  }
  result.keyIds = [...keyIds];
  return result;
}

function text(record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value !== 'string') throw new Broken(`has no ${field}`);
  return value;
}

function nullableText(record: Record<string, unknown>, field: string): string | null {
  const value = record[field];
  if (value === null) return null;
  if (typeof value !== 'string') throw new Broken(`has no ${field} (a string or null)`);
  return value;
}

function instant(value: string, field: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || date.toISOString() !== value) throw new Broken(`has a ${field} that is not an ISO-8601 UTC time with milliseconds`);
  return date;
}

function seqOf(record: Record<string, unknown>): number {
  const seq = record.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw new Broken('has no seq (a positive integer)');
  return seq;
}

function hexOf(record: Record<string, unknown>, field: string): string {
  const value = text(record, field);
  if (!HEX_64.test(value)) throw new Broken(`has a ${field} that is not 64 lowercase hex characters`);
  return value;
}

function entryOf(record: Record<string, unknown>): { content: ChainedContent; prevHash: string; hash: string } {
  const actor = record.actor as Record<string, unknown> | null;
  if (!actor || typeof actor !== 'object') throw new Broken('has no actor');
  const expiresAt = nullableText(record, 'expiresAt');
  return {
    content: {
      id: text(record, 'id'),
      orgId: text(record, 'orgId'),
      seq: seqOf(record),
      at: instant(text(record, 'at'), 'at'),
      provider: text(record, 'provider'),
      action: text(record, 'action'),
      actorKind: text(actor, 'kind'),
      actorId: nullableText(actor, 'id'),
      subjectUserId: nullableText(record, 'subjectUserId'),
      target: nullableText(record, 'target'),
      outcome: text(record, 'outcome'),
      code: nullableText(record, 'code'),
      tokenFingerprint: nullableText(record, 'tokenFingerprint'),
      expiresAt: expiresAt === null ? null : instant(expiresAt, 'expiresAt'),
      ip: nullableText(record, 'ip'),
      userAgent: nullableText(record, 'userAgent'),
      requestId: nullableText(record, 'requestId'),
    },
    prevHash: hexOf(record, 'prevHash'),
    hash: hexOf(record, 'hash'),
  };
}

function checkpointOf(record: Record<string, unknown>): Checkpoint {
  return {
    orgId: text(record, 'orgId'),
    seq: seqOf(record),
    hash: hexOf(record, 'hash'),
    at: text(record, 'at'),
    keyId: text(record, 'keyId'),
    signature: text(record, 'signature'),
  };
}
