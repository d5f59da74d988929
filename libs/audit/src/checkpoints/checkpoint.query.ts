import type { Checkpoint } from './audit-checkpoint';

/** The checkpoint columns joined onto entry rows (null where no checkpoint sits at the entry's seq). */
export interface CheckpointColumns {
  checkpoint_hash: Buffer | null;
  checkpoint_at: Date | null;
  checkpoint_key_id: string | null;
  checkpoint_signature: Buffer | null;
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
