import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import QueryStream from 'pg-query-stream';
import { LongReads } from '@mintline/common/database/pg-client';
import { setTenantSql } from '@mintline/common/database/scoped-data-source';
import { chainHash, GENESIS_HASH } from './audit-chain';
import { chainedContentOf, MINT_AUDIT_COLUMNS, MintAuditRow } from './mint-audit.query';

export interface ChainVerification {
  ok: boolean;
  /** Entries whose hash was recomputed and found in place. */
  checked: number;
  /** The first entry that does not follow from the one before it (edited, or after a removed one). */
  firstBrokenId: string | null;
  detail: string;
}

/**
 * Walks an org's chain from its anchor (the genesis, or the last entry a retention pruning removed):
 * every entry must carry the next seq, the previous entry's hash, and a hash that recomputes from its
 * content; the last one must be the chain head, so removing the newest entries is caught too.
 */
@Injectable()
export class AuditVerifier {
  constructor(private readonly longReads: LongReads) {}

  async verify(orgId: string): Promise<ChainVerification> {
    // One snapshot for the anchor, the head and the entries: a batch that commits (or a pruning that
    // drops partitions) while the walk runs must not look like a broken chain. The lock taken before
    // the snapshot makes a concurrent pruning either finish first or wait until the walk is done.
    const { client, finish } = await this.longReads.borrow();
    try {
      // The snapshot is taken by the first statement after the lock (LOCK itself takes none).
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; LOCK TABLE mint_audit IN ACCESS SHARE MODE');
      await client.query(setTenantSql({ orgId }));
      return await this.walk(client, orgId);
    } finally {
      await finish();
    }
  }

  private async walk(client: PoolClient, orgId: string): Promise<ChainVerification> {
    const anchors = (
      await client.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_chain_anchors WHERE org_id = $1 ORDER BY seq DESC LIMIT 1', [orgId])
    ).rows;
    const heads = (await client.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_chain_heads WHERE org_id = $1', [orgId])).rows;
    let expectedSeq = Number(anchors[0]?.seq ?? 0) + 1;
    let previous = anchors[0]?.hash ?? GENESIS_HASH;
    let checked = 0;
    const broken = (row: MintAuditRow & { prev_hash: Buffer }, detail: string): ChainVerification => ({ ok: false, checked, firstBrokenId: row.id, detail });

    const rows: AsyncIterable<MintAuditRow & { prev_hash: Buffer; hash: Buffer }> = client.query(
      new QueryStream(`SELECT ${MINT_AUDIT_COLUMNS}, prev_hash, hash FROM mint_audit WHERE org_id = $1 AND seq >= $2 ORDER BY seq`, [orgId, String(expectedSeq)], {
        batchSize: 500,
      }),
    );
    for await (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) {
        return broken(row, seq > expectedSeq ? `entries ${expectedSeq}..${seq - 1} are missing before this one` : `seq ${seq} appears twice`);
      }
      if (!row.prev_hash.equals(previous)) return broken(row, `entry ${seq} does not follow from the entry before it`);
      const recomputed = chainHash(previous, chainedContentOf(row));
      if (!recomputed.equals(row.hash)) return broken(row, `entry ${seq} was changed after it was written`);
      previous = row.hash;
      expectedSeq += 1;
      checked += 1;
    }
    const head = heads[0];
    const lastSeq = expectedSeq - 1;
    if (head && (Number(head.seq) !== lastSeq || !head.hash.equals(previous))) {
      return { ok: false, checked, firstBrokenId: null, detail: `the chain ends at entry ${lastSeq} but its head is entry ${head.seq}: the newest entries are missing` };
    }
    return { ok: true, checked, firstBrokenId: null, detail: checked === 0 ? 'no entries' : `entries ${lastSeq - checked + 1}..${lastSeq} verify` };
  }
}
