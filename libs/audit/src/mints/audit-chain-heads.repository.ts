import type { SystemDb, SystemTx } from '@mintline/common/database/db';
import type { LongRead } from '@mintline/common/database/pg-client';
import type { Sql } from '@mintline/common/database/statement-batch';

/** A row of `audit_chain_heads`: the newest entry of an org's chain (the mint audit writer moves it). */
export interface AuditChainHeadRow {
  org_id: string;
  seq: string;
  hash: Buffer;
}

export type ChainHead = Pick<AuditChainHeadRow, 'seq' | 'hash'>;

const ORGS: Sql = { text: 'SELECT org_id FROM audit_chain_heads ORDER BY org_id' };
const HEAD = 'SELECT seq, hash FROM audit_chain_heads WHERE org_id = $1';
const LOCK_HEAD: Sql = { text: 'SELECT seq, hash FROM audit_chain_heads WHERE org_id = $1 FOR UPDATE' };
const LOCK_ALL: Sql = { text: 'LOCK TABLE audit_chain_heads IN SHARE ROW EXCLUSIVE MODE' };

/**
 * The reads of `audit_chain_heads` and its locks. The writes are the mint audit writer's own statement
 * (MintAuditWriter), which moves a head with the entries it commits.
 */
export const AuditChainHeadsRepository = {
  /** Every org that has a chain (the CLI verifies them all). */
  async orgs(db: SystemDb): Promise<string[]> {
    return (await db.query<{ org_id: string }>(ORGS)).map((row) => row.org_id);
  },

  /** The long read's org's head, in its snapshot. */
  async head(read: LongRead): Promise<ChainHead | undefined> {
    return (await read.query<ChainHead>(HEAD, [read.orgId]))[0];
  },

  /** An org's head (retention records it in its event). */
  async headOf(tx: SystemTx, orgId: string): Promise<ChainHead | undefined> {
    return (await tx.query<ChainHead>({ text: HEAD }, [orgId]))[0];
  },

  /** An org's head, locked until `tx` ends: its writers wait (the operator signs exactly this head). */
  async lockHead(tx: SystemTx, orgId: string): Promise<ChainHead | undefined> {
    return (await tx.query<ChainHead>(LOCK_HEAD, [orgId]))[0];
  },

  /** Holds every writer back until `tx` ends, so that the heads read meanwhile are exact. */
  async lockAll(tx: SystemTx): Promise<void> {
    await tx.query(LOCK_ALL);
  },
};
