import { Injectable } from '@nestjs/common';
import { Db } from '@mintline/common/database/db';
import { checkCheckpointSignature } from './audit-checkpoint';
import { AuditCheckpointsRepository } from './audit-checkpoints.repository';
import { AuditSigningKeys } from './audit-signing-keys';
import type { HeadRef } from './chain-trust';
import { checkpointOf } from './checkpoint.query';

/**
 * `covered`: a checkpoint signed by a key of the configured ring vouches for exactly this org, seq and
 * hash. `no-history`: the org has no checkpoint at all (a chain written before checkpoints existed, or
 * pruned whole). `uncovered`: neither — nothing stored vouches for this head, yet.
 */
export type Cover = 'covered' | 'no-history' | 'uncovered';

/** Looks up, for heads found in the database, whether a stored checkpoint vouches for each. */
@Injectable()
export class CheckpointCovers {
  constructor(
    private readonly db: Db,
    private readonly keys: AuditSigningKeys,
  ) {}

  /**
   * One statement for every asked head (an org may be asked about more than one); the signatures are
   * checked here, with the ring's keys only. The answers come in the order of `heads`.
   */
  async lookup(heads: ReadonlyArray<{ orgId: string; head: HeadRef }>): Promise<Cover[]> {
    const asked = heads.map(({ orgId, head }, i) => ({ i, org_id: orgId, seq: head.seq }));
    const rows = await AuditCheckpointsRepository.covers(this.db.system('audit batch of many orgs'), asked);
    const covers: Cover[] = [];
    for (const row of rows) {
      const { head } = heads[row.i];
      const checkpoint = checkpointOf(row.org_id, head.seq, row);
      const vouches = checkpoint !== undefined && checkpoint.hash === head.hash.toString('hex') && checkCheckpointSignature(this.keys.publicKeys, checkpoint).ok;
      covers[row.i] = vouches ? 'covered' : row.has_any ? 'uncovered' : 'no-history';
    }
    return covers;
  }
}
