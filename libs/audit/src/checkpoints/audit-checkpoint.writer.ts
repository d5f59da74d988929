import { Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { Counter } from 'prom-client';
import { Clock } from '@mintline/common/clock';
import { Db } from '@mintline/common/database/db';
import { MetricsService } from '@mintline/common/metrics/metrics.service';
import { signCheckpoint } from './audit-checkpoint';
import { AuditCheckpointsRepository } from './audit-checkpoints.repository';
import { AuditSigningKeys } from './audit-signing-keys';
import { ChainTrust, CommittedHead, HeadRef, sameHead } from './chain-trust';
import { CheckpointCovers, Cover } from './checkpoint-covers';

export type { CommittedHead } from './chain-trust';

/**
 * How long a batch that started from a head another writer moved waits for that writer's checkpoint of
 * it. An instance signs its own head within milliseconds of its commit; the bound keeps the contract's
 * 2 s from commit to `signedThroughSeq` when it does, and ends the wait when nobody will.
 */
const COVER_WAIT_MS = 1_500;
const FIRST_RETRY_MS = 20;
const MAX_RETRY_MS = 400;

interface Queued extends CommittedHead {
  /** performance.now() when the batch was handed in. */
  committedAt: number;
  attempts: number;
  nextLookAt: number;
}

/**
 * Signs and stores the chain heads the mint audit writer has just committed, right after each batch:
 * one Ed25519 signature per touched org and one INSERT for all of them, while the next batch is already
 * being written. Of consecutive heads waiting while a checkpoint statement runs, only the newest is signed
 * (it vouches for every entry before it through the chain, and no other writer built on the others).
 *
 * A head is signed only if this service committed it on top of a head it trusts (ChainTrust): one it
 * committed itself, or one a valid stored checkpoint covers. A batch that started from a head found in the
 * database (the first batch of an org, or after another instance moved the head) waits briefly for that
 * head's checkpoint; if none comes, the head was moved by a writer that did not sign it — perhaps an entry
 * forged with database access — and nothing built on it is signed: it stays in the unsigned tail, logged
 * and counted. A checkpoint that fails to be stored is logged and dropped: the mint was committed already,
 * and the org's next batch signs a head that covers it. None of this ever holds up or fails a mint.
 */
@Injectable()
export class AuditCheckpointWriter {
  private readonly logger = new Logger('AuditCheckpoints');
  /** Committed heads not yet judged, per org in commit order. */
  private queued = new Map<string, Queued[]>();
  private readonly trust = new ChainTrust();
  private readonly unsignedHeads: Counter;
  private writing?: Promise<void>;
  /** Ends the pause between lookups early when new heads arrive. */
  private wake?: () => void;

  constructor(
    private readonly db: Db,
    private readonly keys: AuditSigningKeys,
    private readonly covers: CheckpointCovers,
    private readonly clock: Clock,
    metrics: MetricsService,
  ) {
    this.unsignedHeads = new Counter({
      name: 'mintline_audit_unsigned_heads_total',
      help: 'Audit chain heads this instance committed and did not sign, because the head its batch started from was moved by a writer that did not sign it',
      registers: [metrics.registry],
    });
  }

  /** Called once a batch has committed, with the heads it moved and where each started. */
  committed(heads: CommittedHead[]): void {
    const now = performance.now();
    for (const head of heads) {
      const queue = this.queued.get(head.orgId) ?? [];
      queue.push({ ...head, committedAt: now, attempts: 0, nextLookAt: now });
      this.queued.set(head.orgId, queue);
    }
    this.wake?.();
    if (!this.writing && this.queued.size > 0) this.writing = this.writeAll();
  }

  /** Waits until every head handed in so far is stored, withheld or given up on, before the database pool closes. */
  async drain(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeAll(): Promise<void> {
    try {
      while (this.queued.size > 0) {
        const pause = await this.pass();
        if (pause > 0) await this.sleep(pause);
      }
    } finally {
      this.writing = undefined;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /**
   * Looks up the checkpoints due, judges every head it can, signs and stores the trusted ones. Answers how
   * long until the next lookup is due (0: nothing is waiting).
   */
  private async pass(): Promise<number> {
    await this.lookUpCovers();
    const toSign: CommittedHead[] = [];
    for (const [orgId, queue] of this.queued) {
      let newest: CommittedHead | undefined;
      while (queue.length > 0) {
        const verdict = this.trust.judge(queue[0]);
        if (verdict === 'ask') break;
        const head = queue.shift()!;
        this.trust.advance(head);
        if (verdict === 'withhold') {
          this.unsignedHeads.inc();
          continue;
        }
        // A head another writer built on must keep its own checkpoint; a head this batch continues need not.
        if (newest && !sameHead(newest, head.from)) toSign.push(newest);
        newest = head;
      }
      if (newest) toSign.push(newest);
      if (queue.length === 0) this.queued.delete(orgId);
    }
    if (toSign.length > 0) {
      await this.write(toSign).catch((error: unknown) =>
        this.logger.error(
          { err: error, orgs: toSign.length },
          "audit checkpoints failed to be stored; these entries stay in the unsigned tail until the org's next batch is signed",
        ),
      );
    }
    // Heads handed in meanwhile are judged at once; the rest wait for their next lookup.
    const due = [...this.queued.values()].map((queue) => (this.trust.judge(queue[0]) === 'ask' ? queue[0].nextLookAt : 0));
    return due.length === 0 ? 0 : Math.max(0, Math.min(...due) - performance.now());
  }

  /**
   * One statement for every org whose next head waits on a checkpoint: a batch that started from a head
   * this instance did not commit (looked for again with backoff until COVER_WAIT_MS after its commit, then
   * withheld), or one on an untrusted chain (looked for once per pass, without waiting: its base, which
   * another instance may have signed late, and the head the batch started from, which an operator may have
   * vouched for with `audit:sign-head` after investigating the chain).
   */
  private async lookUpCovers(): Promise<void> {
    const now = performance.now();
    const asked: Array<{ orgId: string; head: HeadRef }> = [];
    for (const [orgId, queue] of this.queued) {
      const verdict = this.trust.judge(queue[0]);
      if (verdict === 'ask' && queue[0].nextLookAt <= now) asked.push({ orgId, head: queue[0].from });
      if (verdict === 'withhold') {
        const base = this.trust.untrustedBase(orgId)!;
        asked.push({ orgId, head: base });
        if (!sameHead(base, queue[0].from)) asked.push({ orgId, head: queue[0].from });
      }
    }
    if (asked.length === 0) return;
    const answers = await this.covers.lookup(asked).catch((error: unknown) => {
      this.logger.warn({ err: error, orgs: asked.length }, 'could not look up the audit checkpoints of chain heads found in the database; looking again');
      return [] as Cover[];
    });
    const vouchedOrgs = new Set(asked.filter((_, i) => answers[i] === 'covered' || answers[i] === 'no-history').map(({ orgId }) => orgId));
    for (const orgId of new Set(asked.map((question) => question.orgId))) {
      const vouched = vouchedOrgs.has(orgId);
      const front = this.queued.get(orgId)![0];
      const head = front.from;
      if (this.trust.judge(front) === 'withhold') {
        if (!vouched) continue;
        // Covering the base or the head this batch starts from vouches for every head this instance built on it.
        this.trust.baseCovered(orgId);
        this.logger.log({ orgId, seq: head.seq }, 'a checkpoint now covers the audit chain head this instance had found unsigned; signing resumes');
        continue;
      }
      if (vouched) {
        this.trust.covered(orgId, head);
        continue;
      }
      front.attempts += 1;
      if (now - front.committedAt < COVER_WAIT_MS) {
        const backoff = Math.min(FIRST_RETRY_MS * 2 ** (front.attempts - 1), MAX_RETRY_MS);
        front.nextLookAt = Math.min(now + backoff, front.committedAt + COVER_WAIT_MS);
        continue;
      }
      this.trust.uncovered(orgId, head);
      this.logger.warn(
        { orgId, seq: head.seq },
        'the audit chain head was moved by a writer that did not sign it (no valid checkpoint covers it): entries committed on top of it are not signed and stay in the unsigned tail; investigate it and compare with kept exports',
      );
    }
  }

  private async write(heads: CommittedHead[]): Promise<void> {
    const at = new Date(this.clock.nowMs()).toISOString();
    const checkpoints = heads.map((head) => signCheckpoint(this.keys, { orgId: head.orgId, seq: head.seq, hash: head.hash.toString('hex'), at }));
    // The checkpoints of several orgs travel as one JSON document; one instance commits each seq once,
    // so a row already at (org, seq) was not written by this service, and verification judges it.
    await AuditCheckpointsRepository.insertMany(this.db.system('audit batch of many orgs'), checkpoints);
  }
}
