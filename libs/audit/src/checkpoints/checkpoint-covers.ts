import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { escapeLiteral } from 'pg';
import { DataSource } from 'typeorm';
import { queryInOneTrip } from '@mintline/common/database/scoped-data-source';
import { SYSTEM_SCOPE, TenantScope } from '@mintline/common/database/tenant-scope';
import { checkCheckpointSignature } from './audit-checkpoint';
import { AuditSigningKeys } from './audit-signing-keys';
import type { HeadRef } from './chain-trust';
import { checkpointOf, CheckpointColumns } from './checkpoint.query';

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
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly keys: AuditSigningKeys,
  ) {}

  /**
   * One statement for every asked head (an org may be asked about more than one); the signatures are
   * checked here, with the ring's keys only. The answers come in the order of `heads`.
   */
  async lookup(heads: ReadonlyArray<{ orgId: string; head: HeadRef }>): Promise<Cover[]> {
    const asked = heads.map(({ orgId, head }, i) => ({ i, org_id: orgId, seq: head.seq }));
    const rows = await TenantScope.system(() =>
      queryInOneTrip<CheckpointColumns & { i: number; org_id: string; has_any: boolean }>(
        this.dataSource,
        SYSTEM_SCOPE,
        `SELECT a.i, a.org_id, c.hash AS checkpoint_hash, c.at AS checkpoint_at, c.key_id AS checkpoint_key_id, c.signature AS checkpoint_signature,
                EXISTS (SELECT 1 FROM audit_checkpoints x WHERE x.org_id = a.org_id) AS has_any
           FROM jsonb_to_recordset(${escapeLiteral(JSON.stringify(asked))}::jsonb) AS a(i int, org_id uuid, seq bigint)
           LEFT JOIN audit_checkpoints c ON c.org_id = a.org_id AND c.seq = a.seq`,
      ),
    );
    const covers: Cover[] = [];
    for (const row of rows) {
      const { head } = heads[row.i];
      const checkpoint = checkpointOf(row.org_id, head.seq, row);
      const vouches =
        checkpoint !== undefined && checkpoint.hash === head.hash.toString('hex') && checkCheckpointSignature(this.keys.publicKeys, checkpoint).ok;
      covers[row.i] = vouches ? 'covered' : row.has_any ? 'uncovered' : 'no-history';
    }
    return covers;
  }
}
