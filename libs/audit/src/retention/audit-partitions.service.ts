import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { Db } from '@mintline/common/database/db';
import { AuditCheckpointsRepository } from '../checkpoints/audit-checkpoints.repository';
import { ConfigEventsService } from '../events/config-events.service';
import { AuditChainAnchorsRepository } from '../mints/audit-chain-anchors.repository';
import { AuditChainHeadsRepository } from '../mints/audit-chain-heads.repository';
import { MintAuditRepository } from '../mints/mint-audit.repository';

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
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly events: ConfigEventsService,
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
      await MintAuditRepository.createPartition(this.db.system('retention'), lower);
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
    // Pruning anchors every org's chain in one transaction.
    return this.db.system('retention').transaction(async (tx) => {
      const partitions = (await MintAuditRepository.partitions(tx))
        .map((row) => ({ name: row.name, upper: upperBound(row.bound) }))
        .filter((partition): partition is { name: string; upper: Date } => partition.upper !== null && partition.upper.getTime() <= before.getTime());
      if (partitions.length === 0) return { droppedPartitions: [], anchors: [] };
      const cut = new Date(Math.max(...partitions.map((partition) => partition.upper.getTime())));
      // Writers wait while the chain heads are locked, so the anchors and heads recorded are exact.
      await AuditChainHeadsRepository.lockAll(tx);
      // Anchors come from the partitions being dropped only: entries of those months that sit in the
      // default partition stay, so the chain must still be checked through them.
      const anchors = await MintAuditRepository.lastEntriesIn(
        tx,
        partitions.map((partition) => partition.name),
      );
      for (const anchor of anchors) {
        const head = await AuditChainHeadsRepository.headOf(tx, anchor.org_id);
        await AuditChainAnchorsRepository.insert(tx, { org_id: anchor.org_id, seq: anchor.seq, hash: anchor.hash, pruned_before: cut });
        // Checkpoints of removed entries have nothing left to vouch for: the anchor stands for them, and
        // the next checkpoint signs a hash that covers the anchor through the chain.
        await AuditCheckpointsRepository.deleteThrough(tx, anchor.org_id, anchor.seq);
        await this.events.recordFor(tx, anchor.org_id, {
          actor: { kind: 'system', id: null },
          action: 'audit.pruned',
          targetType: 'audit',
          targetId: null,
          details: {
            before: cut.toISOString(),
            anchor: { seq: Number(anchor.seq), hash: anchor.hash.toString('hex') },
            chainHead: head ? { seq: Number(head.seq), hash: head.hash.toString('hex') } : null,
            partitions: partitions.map((partition) => partition.name),
          },
        });
      }
      for (const partition of partitions) await MintAuditRepository.dropPartition(tx, partition.name);
      return { droppedPartitions: partitions.map((partition) => partition.name), anchors: anchors.map((a) => ({ orgId: a.org_id, seq: Number(a.seq) })) };
    });
  }
}

/** The upper bound of `FOR VALUES FROM ('...') TO ('...')`; null for the default partition. */
function upperBound(bound: string): Date | null {
  const match = /TO \('([^']+)'\)/.exec(bound);
  return match ? new Date(match[1]) : null;
}
