import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '@mintline/common/clock';

const MONTHS_AHEAD = 2;
const MAINTENANCE_INTERVAL_MS = 6 * 60 * 60 * 1000;

export interface PruneResult {
  droppedPartitions: string[];
  anchors: Array<{ orgId: string; seq: number }>;
}

/**
 * Monthly partitions of mint_audit: created ahead of time (at start and every few hours) so entries never
 * land in the default partition, and dropped whole by retention. A pruning first records, per org, an
 * anchor (the last removed entry's seq and hash) and an event with the chain head, so that what remains
 * still verifies, and removes the signed checkpoints of the removed entries.
 */
@Injectable()
export class AuditPartitionsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuditPartitions');
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureAhead().catch((error: unknown) => this.logger.warn({ err: error }, 'could not create audit partitions ahead'));
    this.timer = setInterval(() => void this.ensureAhead().catch(() => undefined), MAINTENANCE_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Creates the partitions of this month and the next ones; harmless to run from several instances. */
  async ensureAhead(from: Date = this.clock.now()): Promise<void> {
    const start = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1);
    for (let month = 0; month <= MONTHS_AHEAD; month += 1) {
      const lower = new Date(start);
      lower.setUTCMonth(lower.getUTCMonth() + month);
      await this.createPartition(lower);
    }
  }

  /** The partition of the month starting at `lower`, made by the owner's function (the service owns no table). */
  async createPartition(lower: Date): Promise<void> {
    try {
      await this.dataSource.query('SELECT mintline_create_audit_partition($1)', [lower.toISOString()]);
    } catch (error) {
      // Another instance created it at the same moment.
      if (!['42P07', '23505'].includes((error as { code?: string }).code ?? '')) throw error;
    }
  }

  /** Drops every monthly partition that ends on or before the start of `beforeMonth` (YYYY-MM). */
  async prune(beforeMonth: string): Promise<PruneResult> {
    const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(beforeMonth);
    if (!match) throw new Error('--before must be a month, YYYY-MM');
    const before = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
    return this.dataSource.transaction(async (manager) => {
      const partitions: Array<{ name: string; upper: Date }> = (
        await manager.query(
          `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'mint_audit'::regclass`,
        )
      )
        .map((row: { name: string; bound: string }) => ({ name: row.name, upper: upperBound(row.bound) }))
        .filter((partition: { upper: Date | null }) => partition.upper !== null && partition.upper.getTime() <= before.getTime());
      if (partitions.length === 0) return { droppedPartitions: [], anchors: [] };
      const cut = new Date(Math.max(...partitions.map((partition) => partition.upper.getTime())));
      // Writers wait while the chain heads are locked, so the anchors and heads recorded are exact.
      await manager.query('LOCK TABLE audit_chain_heads IN SHARE ROW EXCLUSIVE MODE');
      // Anchors come from the partitions being dropped only: entries of those months that sit in the
      // default partition stay, so the chain must still be checked through them.
      const dropped = partitions.map((partition) => `SELECT org_id, seq, hash FROM ${quoteIdentifier(partition.name)}`).join(' UNION ALL ');
      const anchors: Array<{ org_id: string; seq: string; hash: Buffer }> = await manager.query(
        `SELECT DISTINCT ON (org_id) org_id, seq, hash FROM (${dropped}) AS removed ORDER BY org_id, seq DESC`,
      );
      for (const anchor of anchors) {
        const [head] = await manager.query('SELECT seq, hash FROM audit_chain_heads WHERE org_id = $1', [anchor.org_id]);
        await manager.query('INSERT INTO audit_chain_anchors (org_id, seq, hash, pruned_before) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
          anchor.org_id,
          anchor.seq,
          anchor.hash,
          cut,
        ]);
        // Checkpoints of removed entries have nothing left to vouch for: the anchor stands for them, and
        // the next checkpoint signs a hash that covers the anchor through the chain.
        await manager.query('DELETE FROM audit_checkpoints WHERE org_id = $1 AND seq <= $2', [anchor.org_id, anchor.seq]);
        await manager.query(
          `INSERT INTO config_events (id, org_id, at, actor_kind, actor_id, action, target_type, target_id, details)
           VALUES ($1, $2, $3, 'system', NULL, 'audit.pruned', 'audit', NULL, $4)`,
          [
            randomUUID(),
            anchor.org_id,
            this.clock.now(),
            JSON.stringify({
              before: cut.toISOString(),
              anchor: { seq: Number(anchor.seq), hash: anchor.hash.toString('hex') },
              chainHead: head ? { seq: Number(head.seq), hash: (head.hash as Buffer).toString('hex') } : null,
              partitions: partitions.map((partition) => partition.name),
            }),
          ],
        );
      }
      for (const partition of partitions) await manager.query(`DROP TABLE ${partition.name}`);
      return { droppedPartitions: partitions.map((partition) => partition.name), anchors: anchors.map((a) => ({ orgId: a.org_id, seq: Number(a.seq) })) };
    });
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The upper bound of `FOR VALUES FROM ('...') TO ('...')`; null for the default partition. */
function upperBound(bound: string): Date | null {
  const match = /TO \('([^']+)'\)/.exec(bound);
  return match ? new Date(match[1]) : null;
}
