import { createHash, hash } from 'node:crypto';

/** The hash before an org's first entry. */
export const GENESIS_HASH = Buffer.alloc(32);

/** Everything an entry's hash covers, in a fixed order. */
export interface ChainedContent {
  id: string;
  orgId: string;
  seq: number;
  at: Date;
  provider: string;
  action: string;
  actorKind: string;
  actorId: string | null;
  subjectUserId: string | null;
  target: string | null;
  outcome: string;
  code: string | null;
  tokenFingerprint: string | null;
  expiresAt: Date | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/**
 * The canonical text of an entry: a JSON array in a fixed field order with times as ISO strings, so the
 * same entry always hashes the same, whoever wrote it and whatever the column order in the table.
 */
export function canonicalContent(entry: ChainedContent): string {
  return JSON.stringify([
    'mintline.mint-audit.v1',
    entry.id,
    entry.orgId,
    String(entry.seq),
    entry.at.toISOString(),
    entry.provider,
    entry.action,
    entry.actorKind,
    entry.actorId,
    entry.subjectUserId,
    entry.target,
    entry.outcome,
    entry.code,
    entry.tokenFingerprint,
    entry.expiresAt ? entry.expiresAt.toISOString() : null,
    entry.ip,
    entry.userAgent,
    entry.requestId,
  ]);
}

/**
 * Where the previous hash and the canonical text are laid side by side for one-shot hashing: hashing is
 * synchronous, so one buffer serves every entry (a Hash object per entry was a visible share of a mint).
 */
const scratch = Buffer.allocUnsafe(16 * 1024);

/** hash = SHA-256(previous hash ‖ canonical content). */
export function chainHash(previous: Buffer, entry: ChainedContent): Buffer {
  const text = canonicalContent(entry);
  // A UTF-16 code unit is at most 3 bytes of UTF-8; a text that might not fit takes the streaming path.
  if (previous.length + text.length * 3 > scratch.length) return createHash('sha256').update(previous).update(text, 'utf8').digest();
  previous.copy(scratch, 0);
  const end = previous.length + scratch.write(text, previous.length, 'utf8');
  return hash('sha256', scratch.subarray(0, end), 'buffer');
}

/** The first 16 hex characters of SHA-256 of the token: enough to match a token to its entry, useless to replay. */
export function tokenFingerprint(token: string): string {
  return hash('sha256', token, 'hex').slice(0, 16);
}
