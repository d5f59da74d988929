import type { SystemTx } from '@mintline/common/database/db';
import type { LongRead } from '@mintline/common/database/pg-client';
import type { Sql } from '@mintline/common/database/statement-batch';

/** A row of `audit_chain_anchors`: the last entry a retention pruning removed from an org's chain. */
export interface AuditChainAnchorRow {
  org_id: string;
  seq: string;
  hash: Buffer;
  pruned_before: Date;
}

export type ChainAnchor = Pick<AuditChainAnchorRow, 'seq' | 'hash'>;

const LATEST = 'SELECT seq, hash FROM audit_chain_anchors WHERE org_id = $1 ORDER BY seq DESC LIMIT 1';
const INSERT: Sql = { text: 'INSERT INTO audit_chain_anchors (org_id, seq, hash, pruned_before) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING' };

export const AuditChainAnchorsRepository = {
  /** The long read's org's newest anchor, where its chain now starts (none: at the genesis). */
  async latest(read: LongRead): Promise<ChainAnchor | undefined> {
    return (await read.query<ChainAnchor>(LATEST, [read.orgId]))[0];
  },

  /** Retention's record of where an org's chain continues; an anchor already there is kept. */
  async insert(tx: SystemTx, anchor: AuditChainAnchorRow): Promise<void> {
    await tx.query(INSERT, [anchor.org_id, anchor.seq, anchor.hash, anchor.pruned_before]);
  },
};
