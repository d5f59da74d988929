import { KeyObject, sign, verify } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import type { AuditSigningKeys } from './audit-signing-keys';

/** What a checkpoint vouches for: org `orgId`'s chain had `hash` at entry `seq`, as this service committed it. */
export interface CheckpointClaim {
  orgId: string;
  /** The chain entry's seq (a safe integer). */
  seq: number;
  /** The entry's chain hash, 64 lowercase hex characters. */
  hash: string;
  /** When the checkpoint was signed: ISO-8601 UTC with milliseconds. */
  at: string;
}

/** A signed checkpoint as stored, answered and exported. */
export interface Checkpoint extends CheckpointClaim {
  keyId: string;
  /** Ed25519 over `checkpointSigningInput`, standard base64. */
  signature: string;
}

export type CheckpointCheck = { ok: true } | { ok: false; reason: 'unknown-key' | 'bad-signature' | 'malformed' };

const HASH_PATTERN = /^[0-9a-f]{64}$/;
const ISO_MS_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The bytes a checkpoint's signature covers: the RFC 8785 canonical JSON of `{at, hash, keyId, orgId, seq}`
 * (members in that order, `seq` a JSON number), UTF-8. Refuses values that have a second spelling
 * (uppercase hex, a time without milliseconds), so one checkpoint has exactly one signed form.
 */
export function checkpointSigningInput(checkpoint: CheckpointClaim & { keyId: string }): Buffer {
  if (!Number.isSafeInteger(checkpoint.seq) || checkpoint.seq < 1) throw new Error('a checkpoint seq is a positive integer');
  if (!HASH_PATTERN.test(checkpoint.hash)) throw new Error('a checkpoint hash is 64 lowercase hex characters');
  if (!ISO_MS_PATTERN.test(checkpoint.at) || new Date(checkpoint.at).toISOString() !== checkpoint.at) {
    throw new Error('a checkpoint time is ISO-8601 UTC with milliseconds');
  }
  const { at, hash, keyId, orgId, seq } = checkpoint;
  return Buffer.from(canonicalJson({ at, hash, keyId, orgId, seq }), 'utf8');
}

/** Signs a claim with the key ring's signing key (its first). */
export function signCheckpoint(keys: AuditSigningKeys, claim: CheckpointClaim): Checkpoint {
  const keyId = keys.signingKeyId;
  const signature = sign(null, checkpointSigningInput({ ...claim, keyId }), keys.signingKey).toString('base64');
  return { orgId: claim.orgId, seq: claim.seq, hash: claim.hash, at: claim.at, keyId, signature };
}

/**
 * Checks a checkpoint's signature with the public key its keyId names in `publicKeys` (only keys the
 * verifier was configured with, never ones read from where the checkpoint came from).
 */
export function checkCheckpointSignature(publicKeys: ReadonlyMap<string, KeyObject>, checkpoint: Checkpoint): CheckpointCheck {
  const key = publicKeys.get(checkpoint.keyId);
  if (!key) return { ok: false, reason: 'unknown-key' };
  if (typeof checkpoint.signature !== 'string' || !BASE64_PATTERN.test(checkpoint.signature)) return { ok: false, reason: 'malformed' };
  let input: Buffer;
  try {
    input = checkpointSigningInput(checkpoint);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const signature = Buffer.from(checkpoint.signature, 'base64');
  if (signature.length !== 64) return { ok: false, reason: 'bad-signature' };
  return verify(null, input, key, signature) ? { ok: true } : { ok: false, reason: 'bad-signature' };
}

/** Words for a failed check, naming the checkpoint by org and seq. */
export function describeCheckpointFailure(checkpoint: Pick<Checkpoint, 'seq' | 'keyId'>, reason: 'unknown-key' | 'bad-signature' | 'malformed'): string {
  switch (reason) {
    case 'unknown-key':
      return `the checkpoint at entry ${checkpoint.seq} names key "${checkpoint.keyId}", which is not a trusted audit signing key`;
    case 'bad-signature':
      return `the checkpoint at entry ${checkpoint.seq} does not carry a valid signature of key "${checkpoint.keyId}"`;
    case 'malformed':
      return `the checkpoint at entry ${checkpoint.seq} is malformed`;
  }
}
