import { createHash } from 'node:crypto';

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

/** hash = SHA-256(previous hash ‖ canonical content). */
export function chainHash(previous: Buffer, entry: ChainedContent): Buffer {
  return createHash('sha256').update(previous).update(canonicalContent(entry), 'utf8').digest();
}

/** The first 16 hex characters of SHA-256 of the token: enough to match a token to its entry, useless to replay. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 16);
}
