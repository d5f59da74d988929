import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import QueryStream from 'pg-query-stream';
import { LongReads } from '@mintline/common/database/pg-client';
import { Checkpoint, checkCheckpointSignature, describeCheckpointFailure } from '../checkpoints/audit-checkpoint';
import { AuditSigningKeys } from '../checkpoints/audit-signing-keys';
import { CheckpointColumns, checkpointOf, entriesWithCheckpoints } from '../checkpoints/checkpoint.query';
import { chainHash, GENESIS_HASH } from './audit-chain';
import { chainedContentOf, MINT_AUDIT_COLUMNS, MintAuditRow } from './mint-audit.query';

export interface ChainVerification {
  ok: boolean;
  /** Entries whose hash was recomputed and found in place. */
  checked: number;
  /** The first entry that does not follow from the one before it (edited, or after a removed one), or whose checkpoint does not hold. */
  firstBrokenId: string | null;
  /** Checkpoints whose signature and position in the chain were checked and found right. */
  checkpoints: number;
  /** The seq of the newest entry a valid checkpoint vouches for; null when none does. */
  signedThroughSeq: number | null;
  /** Entries after the newest valid checkpoint (or after the anchor, when none): their hashes link up, but no signature covers them yet. */
  unsignedTail: number;
  detail: string;
}

type WalkedRow = MintAuditRow & { prev_hash: Buffer; hash: Buffer } & CheckpointColumns;

/**
 * Walks an org's chain from its anchor (the genesis, or the last entry a retention pruning removed):
 * every entry must carry the next seq, the previous entry's hash, and a hash that recomputes from its
 * content; the last one must be the chain head, so removing the newest entries is caught too.
 *
 * Checkpoints make the walk evident against the database itself: each one must carry a signature of a
 * key of the configured ring (never a key read from the database) and sit on the chain, i.e. the entry
 * at its seq must have exactly its hash. Rewriting entries and head together therefore breaks at the
 * first checkpoint after the rewrite; entries after the newest checkpoint can only be counted
 * (`unsignedTail`). Checkpoints of pruned entries are not looked at: the anchor stands for them.
 */
@Injectable()
export class AuditVerifier {
  constructor(
    private readonly longReads: LongReads,
    private readonly keys: AuditSigningKeys,
  ) {}

  async verify(orgId: string): Promise<ChainVerification> {
    // One snapshot for the anchor, the head, the entries and the checkpoints: a batch that commits (or a
    // pruning that drops partitions) while the walk runs must not look like a broken chain. The lock
    // taken before the snapshot makes a concurrent pruning either finish first or wait until the walk is done.
    // The snapshot is taken by the first statement after the lock (LOCK itself takes none).
    const { client, finish } = await this.longReads.borrow({ orgId }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; LOCK TABLE mint_audit IN ACCESS SHARE MODE');
    try {
      return await this.walk(client, orgId);
    } finally {
      await finish();
    }
  }

  private async walk(client: PoolClient, orgId: string): Promise<ChainVerification> {
    const anchors = (await client.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_chain_anchors WHERE org_id = $1 ORDER BY seq DESC LIMIT 1', [orgId])).rows;
    const heads = (await client.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_chain_heads WHERE org_id = $1', [orgId])).rows;
    const anchorSeq = Number(anchors[0]?.seq ?? 0);
    let expectedSeq = anchorSeq + 1;
    let previous = anchors[0]?.hash ?? GENESIS_HASH;
    let checked = 0;
    let checkpoints = 0;
    let signedThroughSeq: number | null = null;
    const tail = () => expectedSeq - 1 - (signedThroughSeq ?? anchorSeq);
    const result = (ok: boolean, firstBrokenId: string | null, detail: string): ChainVerification => ({
      ok,
      checked,
      firstBrokenId,
      checkpoints,
      signedThroughSeq,
      unsignedTail: tail(),
      detail,
    });

    const rows: AsyncIterable<WalkedRow> = client.query(
      new QueryStream(
        entriesWithCheckpoints(`SELECT ${MINT_AUDIT_COLUMNS}, prev_hash, hash FROM mint_audit WHERE org_id = $1 AND seq >= $2`, 'e.seq'),
        [orgId, String(expectedSeq)],
        { batchSize: 500 },
      ),
    );
    for await (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) {
        return result(false, row.id, seq > expectedSeq ? `entries ${expectedSeq}..${seq - 1} are missing before this one` : `seq ${seq} appears twice`);
      }
      if (!row.prev_hash.equals(previous)) return result(false, row.id, `entry ${seq} does not follow from the entry before it`);
      const recomputed = chainHash(previous, chainedContentOf(row));
      if (!recomputed.equals(row.hash)) return result(false, row.id, `entry ${seq} was changed after it was written`);
      const checkpoint = checkpointOf(orgId, seq, row);
      if (checkpoint) {
        const signature = checkCheckpointSignature(this.keys.publicKeys, checkpoint);
        if (!signature.ok) return result(false, row.id, describeCheckpointFailure(checkpoint, signature.reason));
        if (checkpoint.hash !== row.hash.toString('hex')) {
          const from = (signedThroughSeq ?? anchorSeq) + 1;
          return result(false, row.id, `entries ${from}..${seq} were rewritten after they were signed: the checkpoint at entry ${seq} signed another hash`);
        }
        checkpoints += 1;
        signedThroughSeq = seq;
      }
      previous = row.hash;
      expectedSeq += 1;
      checked += 1;
    }
    const head = heads[0];
    const lastSeq = expectedSeq - 1;
    if (head && (Number(head.seq) !== lastSeq || !head.hash.equals(previous))) {
      return result(false, null, `the chain ends at entry ${lastSeq} but its head is entry ${head.seq}: the newest entries are missing`);
    }
    const beyond = await this.checkpointAfter(client, orgId, lastSeq);
    if (beyond) {
      const signature = checkCheckpointSignature(this.keys.publicKeys, beyond);
      const detail = signature.ok
        ? `a checkpoint signed entry ${beyond.seq} but the chain ends at entry ${lastSeq}: signed entries were removed`
        : describeCheckpointFailure(beyond, signature.reason);
      return result(false, null, detail);
    }
    const signed = signedThroughSeq === null ? 'no checkpoint covers them yet' : `signed through entry ${signedThroughSeq} by ${checkpoints} checkpoints`;
    return result(true, null, checked === 0 ? 'no entries' : `entries ${lastSeq - checked + 1}..${lastSeq} verify; ${signed}; ${tail()} newer entries not signed yet`);
  }

  /** The first checkpoint past the chain's end: there should be none. */
  private async checkpointAfter(client: PoolClient, orgId: string, lastSeq: number): Promise<Checkpoint | undefined> {
    const [row] = (
      await client.query<{ seq: string; checkpoint_hash: Buffer; checkpoint_at: Date; checkpoint_key_id: string; checkpoint_signature: Buffer }>(
        `SELECT seq, hash AS checkpoint_hash, at AS checkpoint_at, key_id AS checkpoint_key_id, signature AS checkpoint_signature
           FROM audit_checkpoints WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT 1`,
        [orgId, String(lastSeq)],
      )
    ).rows;
    return row ? checkpointOf(orgId, Number(row.seq), row) : undefined;
  }
}
