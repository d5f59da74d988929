import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { escapeLiteral } from 'pg';
import { DataSource } from 'typeorm';
import { Clock } from '@mintline/common/clock';
import { queryInOneTrip } from '@mintline/common/database/scoped-data-source';
import { SYSTEM_SCOPE, TenantScope } from '@mintline/common/database/tenant-scope';
import { signCheckpoint } from './audit-checkpoint';
import { AuditSigningKeys } from './audit-signing-keys';

/** A chain head this instance has just committed. */
export interface CommittedHead {
  orgId: string;
  seq: number;
  hash: Buffer;
}

/**
 * Signs and stores the chain heads the mint audit writer has just committed, right after each batch:
 * one Ed25519 signature per touched org and one INSERT for all of them, while the next batch is already
 * being written. Heads that wait while a checkpoint statement runs are coalesced (only each org's newest
 * is signed: it vouches for every entry before it through the chain).
 *
 * Only heads this service itself committed are ever signed — never one read from the database, which
 * could have been moved by someone else. A checkpoint that fails to be stored is logged and dropped:
 * the mint was committed already, and the org's next batch signs a head that covers it.
 */
@Injectable()
export class AuditCheckpointWriter {
  private readonly logger = new Logger('AuditCheckpoints');
  private pending = new Map<string, CommittedHead>();
  private writing?: Promise<void>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly keys: AuditSigningKeys,
    private readonly clock: Clock,
  ) {}

  /** Called once a batch has committed, with the heads it moved. */
  committed(heads: CommittedHead[]): void {
    for (const head of heads) {
      const waiting = this.pending.get(head.orgId);
      if (!waiting || waiting.seq < head.seq) this.pending.set(head.orgId, head);
    }
    if (!this.writing && this.pending.size > 0) this.writing = this.writeAll();
  }

  /** Waits until every head handed in so far is stored (or given up on), before the database pool closes. */
  async drain(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeAll(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const heads = [...this.pending.values()];
        this.pending = new Map();
        await this.write(heads).catch((error: unknown) =>
          this.logger.error(
            { err: error, orgs: heads.length },
            "audit checkpoints failed to be stored; these entries stay in the unsigned tail until the org's next batch is signed",
          ),
        );
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async write(heads: CommittedHead[]): Promise<void> {
    const at = new Date(this.clock.nowMs()).toISOString();
    const rows = heads.map((head) => {
      const checkpoint = signCheckpoint(this.keys, { orgId: head.orgId, seq: head.seq, hash: head.hash.toString('hex'), at });
      return { org_id: checkpoint.orgId, seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at, key_id: checkpoint.keyId, signature: checkpoint.signature };
    });
    // The checkpoints of several orgs travel as one JSON document; one instance commits each seq once,
    // so a row already at (org, seq) was not written by this service, and verification judges it.
    await TenantScope.system(() =>
      queryInOneTrip(
        this.dataSource,
        SYSTEM_SCOPE,
        `INSERT INTO audit_checkpoints (org_id, seq, hash, at, key_id, signature)
         SELECT c.org_id, c.seq, decode(c.hash, 'hex'), c.at, c.key_id, decode(c.signature, 'base64')
           FROM jsonb_to_recordset(${escapeLiteral(JSON.stringify(rows))}::jsonb)
             AS c(org_id uuid, seq bigint, hash text, at timestamptz, key_id text, signature text)
         ON CONFLICT (org_id, seq) DO NOTHING`,
      ),
    );
  }
}
