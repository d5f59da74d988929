import { Injectable } from '@nestjs/common';
import { Db } from '@mintline/common/database/db';
import { LongRead, LongReads } from '@mintline/common/database/pg-client';
import { checkCheckpointSignature, describeCheckpointFailure } from '../checkpoints/audit-checkpoint';
import { AuditCheckpointsRepository } from '../checkpoints/audit-checkpoints.repository';
import { AuditSigningKeys } from '../checkpoints/audit-signing-keys';
import { checkpointOf } from '../checkpoints/checkpoint.query';
import { chainHash, GENESIS_HASH } from './audit-chain';
import { AuditChainAnchorsRepository } from './audit-chain-anchors.repository';
import { AuditChainHeadsRepository } from './audit-chain-heads.repository';
import { chainedContentOf, MintAuditRepository } from './mint-audit.repository';

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
    private readonly db: Db,
    private readonly keys: AuditSigningKeys,
  ) {}

  async verify(orgId: string): Promise<ChainVerification> {
    // One snapshot for the anchor, the head, the entries and the checkpoints: a batch that commits (or a
    // pruning that drops partitions) while the walk runs must not look like a broken chain.
    const { read, finish } = await MintAuditRepository.chainSnapshot(this.longReads, this.db.forOrg(orgId));
    try {
      return await this.walk(read);
    } finally {
      await finish();
    }
  }

  private async walk(read: LongRead): Promise<ChainVerification> {
    const orgId = read.orgId;
    const anchor = await AuditChainAnchorsRepository.latest(read);
    const head = await AuditChainHeadsRepository.head(read);
    const anchorSeq = Number(anchor?.seq ?? 0);
    let expectedSeq = anchorSeq + 1;
    let previous = anchor?.hash ?? GENESIS_HASH;
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

    for await (const row of MintAuditRepository.walk(read, expectedSeq)) {
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
    const lastSeq = expectedSeq - 1;
    if (head && (Number(head.seq) !== lastSeq || !head.hash.equals(previous))) {
      return result(false, null, `the chain ends at entry ${lastSeq} but its head is entry ${head.seq}: the newest entries are missing`);
    }
    const beyond = await AuditCheckpointsRepository.firstAfter(read, lastSeq);
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
}
