import type { Checkpoint } from './audit-checkpoint';

/** The checkpoint columns joined onto entry rows (null where no checkpoint sits at the entry's seq). */
export interface CheckpointColumns {
  checkpoint_hash: Buffer | null;
  checkpoint_at: Date | null;
  checkpoint_key_id: string | null;
  checkpoint_signature: Buffer | null;
}

/**
 * Entry rows (`entries`, a SELECT over mint_audit with org_id, seq and the other columns wanted) each with
 * the checkpoint stored at its seq, if any, in one statement and so in one snapshot.
 */
export function entriesWithCheckpoints(entries: string, orderBy: string): string {
  return `SELECT e.*, c.hash AS checkpoint_hash, c.at AS checkpoint_at, c.key_id AS checkpoint_key_id, c.signature AS checkpoint_signature
            FROM (${entries}) e
            LEFT JOIN audit_checkpoints c ON c.org_id = e.org_id AND c.seq = e.seq
           ORDER BY ${orderBy}`;
}

/** A stored checkpoint in its signed form, or undefined when the row has none. */
export function checkpointOf(orgId: string, seq: number, row: CheckpointColumns): Checkpoint | undefined {
  if (!row.checkpoint_hash || !row.checkpoint_at || row.checkpoint_key_id === null || !row.checkpoint_signature) return undefined;
  return {
    orgId,
    seq,
    hash: row.checkpoint_hash.toString('hex'),
    at: row.checkpoint_at.toISOString(),
    keyId: row.checkpoint_key_id,
    signature: row.checkpoint_signature.toString('base64'),
  };
}
