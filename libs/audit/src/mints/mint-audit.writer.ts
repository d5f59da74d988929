import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CachesMovedError, InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { Clock } from '@mintline/common/clock';
import { Db, SystemDb, SystemTx, Tx } from '@mintline/common/database/db';
import { prepared } from '@mintline/common/database/statement-batch';
import { ApiError } from '@mintline/common/errors/api-error';
import { isDatabaseUnavailable } from '@mintline/common/errors/database-errors';
import { AuditCheckpointWriter, CommittedHead } from '../checkpoints/audit-checkpoint.writer';
import { chainHash, ChainedContent, GENESIS_HASH, tokenFingerprint } from './audit-chain';
import type { AuditedChanges, MintAuditInput } from './mint-audit.types';

const MAX_BATCH = 500;
/**
 * Batches written at the same time. One: a second batch of the same org, sent on another connection,
 * often reaches PostgreSQL before the first and falls to the locked path (measured: half the
 * throughput). Grouping more entries per batch serves better than overlapping batches.
 */
const MAX_IN_FLIGHT = 1;

interface Head {
  seq: number;
  hash: Buffer;
  /** Milliseconds; the org's newest entry's `at`. */
  at: number;
}

interface HeadMove {
  orgId: string;
  expectedSeq: number;
  expectedHash: Buffer;
  seq: number;
  hash: Buffer;
  /** `hash` in hex, as the batch statement takes it. */
  hashHex: string;
  at: number;
  /** `at` as a Date and as the statement's text: every entry of the org in this batch has it. */
  atDate: Date;
  atIso: string;
}

interface ChainedRow {
  content: ChainedContent;
  /** The previous and this entry's hashes in hex: each hash is encoded once, as its entry's and the next one's. */
  prevHex: string;
  hashHex: string;
}

type Unchained = Omit<ChainedContent, 'seq' | 'at'>;

interface Pending {
  entry: Unchained;
  /** See MintAuditInput.freshAsOf. */
  freshAsOf?: number;
  /** A change that commits with the entry or not at all (see recordChange). */
  change?: { through: AuditedChanges<unknown>; args: unknown };
  /** `made`: false when the entry's change could no longer be made (then nothing of it was written). */
  resolve(made: boolean): void;
  reject(error: unknown): void;
}

/** The batch's transaction found the cache epochs moved: it rolls back (its changes with it). */
class StaleEpochs extends Error {}

/**
 * Writes mint audit entries with group commit: every entry waiting when a flush starts goes into one
 * statement, and each caller's promise settles only when its batch has committed (or failed). Callers
 * just `await record(...)` before handing out a token: fail-closed.
 *
 * Chaining: entries are numbered and hashed from this instance's copy of each org's chain head, and
 * one statement moves a head only if it is still where the copy says. Entries of orgs whose heads
 * another instance moved meanwhile are written again in a transaction that locks those heads first.
 * Heads are always locked in org id order, so instances never deadlock, and unrelated orgs never wait
 * for each other.
 */
@Injectable()
export class MintAuditWriter implements BeforeApplicationShutdown {
  private readonly logger = new Logger('MintAudit');
  private queue: Pending[] = [];
  /** This instance's copy of each org's chain head; a statement moves a head only if the copy is right. */
  private readonly heads = new Map<string, Head>();
  private inFlight = 0;
  private scheduled = false;
  /** A batch holds entries of many orgs, whichever request happened to start it. */
  private readonly db: SystemDb;

  constructor(
    db: Db,
    private readonly clock: Clock,
    private readonly checkpoints: AuditCheckpointWriter,
    private readonly bus: InvalidationBus,
  ) {
    this.db = db.system('audit batch of many orgs');
  }

  record(input: MintAuditInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry: this.unchained(input), freshAsOf: input.freshAsOf, resolve: () => resolve(), reject });
      this.schedule();
    });
  }

  /**
   * Writes the entry together with a change to another table (a call token's redemption or revocation),
   * in one transaction: the batch's transaction makes the changes it carries first, then writes the
   * entries of those made (and every plain entry), then commits. Answers true once both have committed;
   * false if the change could no longer be made (the token was redeemed or revoked meanwhile; nothing of
   * it, entry included, is written, and the caller looks again); throws (503) if the batch could not be
   * committed, and then neither happened.
   *
   * Why in the batch: a change that waited for its entry in a transaction of its own would hold a pooled
   * connection and the row's lock across a whole batch cycle of the writer (measured: that alone bounded
   * redemptions to ~450/s). Carried by the batch, the row is locked only for the few round trips of the
   * batch's own transaction, and a batch settles any number of changes at once.
   */
  recordChange<A>(input: MintAuditInput, through: AuditedChanges<A>, args: A): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({
        entry: this.unchained(input),
        freshAsOf: input.freshAsOf,
        change: { through: through as AuditedChanges<unknown>, args },
        resolve,
        reject,
      });
      this.schedule();
    });
  }

  private unchained(input: MintAuditInput): Unchained {
    return {
      id: randomUUID(),
      orgId: input.orgId,
      provider: input.provider,
      action: input.action ?? 'mint',
      actorKind: input.actor.kind,
      actorId: input.actor.id,
      subjectUserId: input.subjectUserId,
      target: input.target,
      outcome: input.outcome,
      code: input.code,
      tokenFingerprint: input.token ? tokenFingerprint(input.token) : null,
      expiresAt: input.expiresAt,
      ip: input.ip,
      userAgent: input.userAgent,
      requestId: input.requestId,
    };
  }

  /** Waits for every entry handed in so far to be committed and signed, before the database pool closes. */
  async beforeApplicationShutdown(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.checkpoints.drain();
  }

  /** Starts batches on the next turn of the event loop, so the requests of this turn join them. */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.launch();
    });
  }

  /** While MAX_IN_FLIGHT batches are being written the queue grows; the next batch takes everything waiting. */
  private launch(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight += 1;
      void this.flush(batch).finally(() => {
        this.inFlight -= 1;
        if (this.queue.length > 0) this.schedule();
      });
    }
  }

  /**
   * Entries that vouch for cached reads (`freshAsOf`) are committed only if the cache epochs are still
   * those the reads were made against: an entry whose request began before this instance applied an
   * epoch move is refused at once; otherwise the batch statement compares the epochs itself and writes
   * nothing if they moved. Either way those entries get CachesMovedError (their requests are checked
   * again) and the others are written in the next batch.
   */
  private async flush(all: Pending[]): Promise<void> {
    const version = this.bus.version;
    const known = this.bus.known();
    const batch: Pending[] = [];
    for (const pending of all) {
      if (pending.freshAsOf !== undefined && (pending.freshAsOf !== version || !known)) pending.reject(new CachesMovedError());
      else batch.push(pending);
    }
    if (batch.length === 0) return;
    const gated = batch.some((pending) => pending.freshAsOf !== undefined);
    try {
      const expected = gated ? known! : {};
      const changing = batch.some((pending) => pending.change);
      const { fresh, unmade } = changing
        ? await this.commitWithChanges(batch, expected)
        : {
            fresh: await this.commit(
              batch.map((pending) => pending.entry),
              expected,
            ),
            unmade: new Set<Pending>(),
          };
      if (!fresh) {
        const retry: Pending[] = [];
        for (const pending of batch) {
          if (pending.freshAsOf !== undefined) pending.reject(new CachesMovedError());
          else retry.push(pending);
        }
        this.queue.unshift(...retry);
        return;
      }
      for (const pending of batch) pending.resolve(!unmade.has(pending));
    } catch (error) {
      this.logger.error({ err: error, entries: batch.length }, 'audit batch failed to commit; no token from it is handed out');
      const failure = ApiError.unavailable('The audit log is unavailable, so no token was issued');
      for (const pending of batch) pending.reject(failure);
      // Entries that queued behind a batch the database did not answer would only wait out the same
      // silence again in the next batch (answering after two timeouts): refuse them now.
      if (isDatabaseUnavailable(error)) for (const pending of this.queue.splice(0)) pending.reject(failure);
    }
  }

  /**
   * Commits a batch in one statement. Entries are numbered and hashed from this instance's copy of each
   * org's chain head; the statement moves a head only if it is still where that copy says (another
   * instance may have moved it) and inserts the entries of exactly the orgs whose heads moved. The rest
   * go through the locked path. Each statement's heads are handed to be signed as soon as it has
   * committed (without holding up the next batch). Answers false, having written nothing, if the cache
   * epochs are no longer `expected` (the caches of the topics that moved are emptied then).
   */
  private async commit(entries: Unchained[], expected: Record<string, string>): Promise<boolean> {
    const orgIds = [...new Set(entries.map((entry) => entry.orgId))].sort();
    const unknown = orgIds.filter((orgId) => !this.heads.has(orgId));
    if (unknown.length > 0) await this.loadHeads(unknown);
    const first = this.chain(entries);
    const { moved, epochs } = await this.guarded(orgIds, () => this.write(undefined, first.rows, first.moves, expected));
    this.remember(first.moves, moved);
    this.bus.apply(epochs);
    if (Object.entries(expected).some(([topic, epoch]) => epochs.some((row) => row.topic === topic && row.epoch !== epoch))) return false;
    this.checkpoints.committed(committedHeads(first.moves, moved));
    const rest = entries.filter((entry) => !moved.has(entry.orgId));
    if (rest.length > 0) this.checkpoints.committed(await this.commitLocked(rest));
    return true;
  }

  /**
   * A batch that carries changes (recordChange), in one transaction: the changes first (each kind in one
   * statement, kinds in name order; they lock their rows in a fixed order, and before any chain head, so
   * that batches on several instances never wait for each other in a cycle), then the entries of the
   * changes made and of every plain entry, as in `commit` (orgs whose heads another instance moved are
   * numbered again from their heads, which the statement has locked, in the same transaction), then
   * COMMIT. If the epochs moved, the whole transaction rolls back. Answers the entries whose change was
   * not made (none of them was written).
   */
  private async commitWithChanges(batch: Pending[], expected: Record<string, string>): Promise<{ fresh: boolean; unmade: Set<Pending> }> {
    const orgIds = [...new Set(batch.map((pending) => pending.entry.orgId))].sort();
    const unknown = orgIds.filter((orgId) => !this.heads.has(orgId));
    if (unknown.length > 0) await this.loadHeads(unknown);
    const unmade = new Set<Pending>();
    const kinds = new Map<AuditedChanges<unknown>, Pending[]>();
    for (const pending of batch) {
      if (!pending.change) continue;
      const group = kinds.get(pending.change.through);
      if (group) group.push(pending);
      else kinds.set(pending.change.through, [pending]);
    }
    let signed: CommittedHead[];
    try {
      signed = await this.guarded(orgIds, () =>
        this.db.transaction(async (tx) => {
          for (const [through, group] of [...kinds].sort(([a], [b]) => (a.name < b.name ? -1 : 1))) {
            const made = await through.apply(
              tx,
              group.map((pending) => pending.change!.args),
            );
            group.forEach((pending, i) => {
              if (!made.has(i)) unmade.add(pending);
            });
          }
          const entries = batch.filter((pending) => !unmade.has(pending)).map((pending) => pending.entry);
          if (entries.length === 0) return [];
          const first = this.chain(entries);
          const { moved, epochs } = await this.write(tx, first.rows, first.moves, expected);
          this.remember(first.moves, moved);
          this.bus.apply(epochs);
          if (Object.entries(expected).some(([topic, epoch]) => epochs.some((row) => row.topic === topic && row.epoch !== epoch))) throw new StaleEpochs();
          const rest = entries.filter((entry) => !moved.has(entry.orgId));
          return [...committedHeads(first.moves, moved), ...(rest.length > 0 ? await this.writeLocked(tx, rest) : [])];
        }),
      );
    } catch (error) {
      if (error instanceof StaleEpochs) return { fresh: false, unmade: new Set() };
      throw error;
    }
    this.checkpoints.committed(signed);
    return { fresh: true, unmade };
  }

  /**
   * The path for orgs whose heads another instance moved meanwhile: lock their heads for the length of
   * one transaction, so this batch cannot be overtaken again, and number the entries from them. Answers
   * the heads it moved, once committed.
   */
  private async commitLocked(entries: Unchained[]): Promise<CommittedHead[]> {
    const orgIds = [...new Set(entries.map((entry) => entry.orgId))].sort();
    return this.guarded(orgIds, () => this.db.transaction((tx) => this.writeLocked(tx, entries)));
  }

  /** Within `tx`: locks the entries' heads (in org order), numbers the entries from them and writes them. */
  private async writeLocked(tx: SystemTx, entries: Unchained[]): Promise<CommittedHead[]> {
    const orgIds = [...new Set(entries.map((entry) => entry.orgId))].sort();
    const heads = await tx.query<{ org_id: string; seq: string; hash: Buffer; at: Date | null }>(
      'SELECT org_id, seq, hash, at FROM audit_chain_heads WHERE org_id = ANY($1::uuid[]) ORDER BY org_id FOR UPDATE',
      [orgIds],
    );
    for (const head of heads) this.heads.set(head.org_id, { seq: Number(head.seq), hash: head.hash, at: head.at?.getTime() ?? 0 });
    const { rows, moves } = this.chain(entries);
    const { moved } = await this.write(tx, rows, moves, {});
    if (moved.size !== orgIds.length) throw new Error('audit chain heads moved while locked');
    this.remember(moves, moved);
    return committedHeads(moves, moved);
  }

  /** Runs a write; if it fails, committed or not, this instance can no longer trust its copies of these heads. */
  private async guarded<T>(orgIds: string[], write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      for (const orgId of orgIds) this.heads.delete(orgId);
      throw error;
    }
  }

  /** Heads that did not move as expected are forgotten, to be read again. */
  private remember(moves: HeadMove[], moved: Set<string>): void {
    for (const move of moves) if (!moved.has(move.orgId)) this.heads.delete(move.orgId);
  }

  private async loadHeads(orgIds: string[]): Promise<void> {
    await this.db.execute(`INSERT INTO audit_chain_heads (org_id, seq, hash) SELECT unnest($1::uuid[]), 0, $2 ON CONFLICT (org_id) DO NOTHING`, [orgIds, GENESIS_HASH]);
    const heads = await this.db.query<{ org_id: string; seq: string; hash: Buffer; at: Date | null }>(
      'SELECT org_id, seq, hash, at FROM audit_chain_heads WHERE org_id = ANY($1::uuid[])',
      [orgIds],
    );
    for (const head of heads) this.heads.set(head.org_id, { seq: Number(head.seq), hash: head.hash, at: head.at?.getTime() ?? 0 });
  }

  /**
   * Numbers and hashes entries from the cached heads. Entries are stamped at this moment, never earlier
   * than the org's newest entry (even if another instance's clock runs ahead), so `at` and `seq` order
   * an org's chain alike.
   */
  private chain(entries: Unchained[]): { rows: ChainedRow[]; moves: HeadMove[] } {
    const now = this.clock.nowMs();
    const moves = new Map<string, HeadMove>();
    const rows = entries.map((entry) => {
      let move = moves.get(entry.orgId);
      if (!move) {
        const head = this.heads.get(entry.orgId)!;
        const at = Math.max(now, head.at);
        const atDate = new Date(at);
        move = {
          orgId: entry.orgId,
          expectedSeq: head.seq,
          expectedHash: head.hash,
          seq: head.seq,
          hash: head.hash,
          hashHex: head.hash.toString('hex'),
          at,
          atDate,
          atIso: atDate.toISOString(),
        };
        moves.set(entry.orgId, move);
      }
      const content: ChainedContent = { ...entry, seq: move.seq + 1, at: move.atDate };
      const hash = chainHash(move.hash, content);
      const row: ChainedRow = { content, prevHex: move.hashHex, hashHex: hash.toString('hex') };
      move.seq = content.seq;
      move.hash = hash;
      move.hashHex = row.hashHex;
      return row;
    });
    // The next batch continues from here, before this one has committed (batches overlap); if this one
    // does not land, the next one's expectations fail too and it takes the locked path.
    for (const move of moves.values()) this.heads.set(move.orgId, { seq: move.seq, hash: move.hash, at: move.at });
    return { rows, moves: [...moves.values()].sort((a, b) => (a.orgId < b.orgId ? -1 : 1)) };
  }

  /**
   * One statement: lock the heads in org order, move those still as expected, insert their entries.
   * The batch travels as one JSON document (serialised natively, far cheaper than array parameters).
   * Alone (no `tx`), statement and tenant setting go to the database in one round trip. It also reads
   * the cache epochs, and writes nothing unless those named in `expected` are as expected.
   */
  private async write(
    tx: Tx | undefined,
    rows: ChainedRow[],
    moves: HeadMove[],
    expected: Record<string, string>,
  ): Promise<{ moved: Set<string>; epochs: Array<{ topic: string; epoch: string }> }> {
    const atIso = new Map(moves.map((move) => [move.orgId, move.atIso]));
    const entries = rows.map(({ content: c, prevHex, hashHex }) => ({
      id: c.id,
      org_id: c.orgId,
      seq: c.seq,
      at: atIso.get(c.orgId),
      provider: c.provider,
      action: c.action,
      actor_kind: c.actorKind,
      actor_id: c.actorId,
      subject_user_id: c.subjectUserId,
      target: c.target,
      outcome: c.outcome,
      code: c.code,
      token_fingerprint: c.tokenFingerprint,
      expires_at: c.expiresAt?.toISOString() ?? null,
      ip: c.ip,
      user_agent: c.userAgent,
      request_id: c.requestId,
      prev_hash: prevHex,
      hash: hashHex,
    }));
    const heads = moves.map((m) => ({
      org_id: m.orgId,
      expected_seq: m.expectedSeq,
      expected_hash: m.expectedHash.toString('hex'),
      seq: m.seq,
      hash: m.hashHex,
      at: m.atIso,
    }));
    const entriesJson = JSON.stringify(entries);
    const headsJson = JSON.stringify(heads);
    const result = await (tx ?? this.db).query<{ org_id: string | null; topic: string | null; epoch: string | null }>(WRITE, [
      entriesJson,
      headsJson,
      JSON.stringify(expected),
    ]);
    const moved = new Set<string>();
    const epochs: Array<{ topic: string; epoch: string }> = [];
    for (const row of result) {
      if (row.org_id !== null) moved.add(row.org_id);
      else epochs.push({ topic: row.topic!, epoch: row.epoch! });
    }
    return { moved, epochs };
  }
}

function committedHeads(moves: HeadMove[], moved: Set<string>): CommittedHead[] {
  // `from` is where the batch found the head: the checkpoint writer signs only on top of a head it trusts.
  return moves
    .filter((move) => moved.has(move.orgId))
    .map((move) => ({ orgId: move.orgId, seq: move.seq, hash: move.hash, from: { seq: move.expectedSeq, hash: move.expectedHash } }));
}

/**
 * The batch statement; $1 and $2 are the JSON documents of the entries and of the heads' moves, $3 the
 * cache epochs (topic to epoch) the entries vouch for: if any has moved, no head moves and nothing is
 * inserted. Answers the orgs whose heads moved, then every topic's current epoch (one snapshot).
 */
const WRITE = prepared(
  'mint_audit_write',
  `WITH fresh AS (
      SELECT NOT EXISTS (SELECT 1 FROM cache_epochs c JOIN jsonb_each_text($3::jsonb) x ON x.key = c.topic WHERE c.epoch::text <> x.value) AS ok
    ), m AS (
      SELECT * FROM jsonb_to_recordset($2::jsonb)
        AS m(org_id uuid, expected_seq bigint, expected_hash text, seq bigint, hash text, at timestamptz)
       WHERE (SELECT ok FROM fresh)
    ), locked AS (
      SELECT h.org_id FROM audit_chain_heads h WHERE h.org_id IN (SELECT org_id FROM m) ORDER BY h.org_id FOR UPDATE
    ), moved AS (
      UPDATE audit_chain_heads AS h SET seq = m.seq, hash = decode(m.hash, 'hex'), at = m.at
        FROM m
       WHERE h.org_id = m.org_id AND h.org_id IN (SELECT org_id FROM locked)
         AND h.seq = m.expected_seq AND h.hash = decode(m.expected_hash, 'hex')
      RETURNING h.org_id
    ), inserted AS (
      INSERT INTO mint_audit (id, org_id, seq, at, provider, action, actor_kind, actor_id, subject_user_id, target, outcome, code,
                              token_fingerprint, expires_at, ip, user_agent, request_id, prev_hash, hash)
      SELECT e.id, e.org_id, e.seq, e.at, e.provider, e.action, e.actor_kind, e.actor_id, e.subject_user_id, e.target, e.outcome,
             e.code, e.token_fingerprint, e.expires_at, e.ip, e.user_agent, e.request_id, decode(e.prev_hash, 'hex'), decode(e.hash, 'hex')
        FROM jsonb_to_recordset($1::jsonb)
          AS e(id uuid, org_id uuid, seq bigint, at timestamptz, provider text, action text, actor_kind text, actor_id text,
               subject_user_id uuid, target text, outcome text, code text, token_fingerprint text, expires_at timestamptz,
               ip text, user_agent text, request_id text, prev_hash text, hash text)
       WHERE e.org_id IN (SELECT org_id FROM moved)
      RETURNING 1
    )
    SELECT org_id, NULL::text AS topic, NULL::text AS epoch FROM moved
    UNION ALL
    SELECT NULL, topic, epoch::text FROM cache_epochs`,
);
