import type { SystemDb, SystemTx, TenantDb } from '@mintline/common/database/db';
import type { LongRead, LongReads } from '@mintline/common/database/pg-client';
import { prepared, Sql } from '@mintline/common/database/statement-batch';
import type { CheckpointColumns } from '../checkpoints/checkpoint.query';
import type { ChainedContent } from './audit-chain';
import type { MintAuditFilterDto } from './mint-audit.dto';

/** A row of `mint_audit` as read back (the columns an entry's view and its hash are made of). */
export interface MintAuditRow {
  id: string;
  org_id: string;
  seq: string;
  at: Date;
  provider: string;
  action: string;
  actor_kind: string;
  actor_id: string | null;
  subject_user_id: string | null;
  target: string | null;
  outcome: string;
  code: string | null;
  token_fingerprint: string | null;
  expires_at: Date | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
}

/** An entry with its place in the chain. */
export type ChainedRow = MintAuditRow & { prev_hash: Buffer; hash: Buffer };
/** An entry with its place in the chain and the checkpoint stored at its seq (if any). */
export type CheckpointedRow = ChainedRow & CheckpointColumns;

export const MINT_AUDIT_COLUMNS = `id, org_id, seq, at, provider, action, actor_kind, actor_id, subject_user_id, target, outcome, code,
                 token_fingerprint, expires_at, ip, user_agent, request_id`;

/** What an entry's hash covers, read back from its row. */
export function chainedContentOf(row: MintAuditRow): ChainedContent {
  return {
    id: row.id,
    orgId: row.org_id,
    seq: Number(row.seq),
    at: row.at,
    provider: row.provider,
    action: row.action,
    actorKind: row.actor_kind,
    actorId: row.actor_id,
    subjectUserId: row.subject_user_id,
    target: row.target,
    outcome: row.outcome,
    code: row.code,
    tokenFingerprint: row.token_fingerprint,
    expiresAt: row.expires_at,
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
  };
}

/** Where a page continues: after the last (at, seq) of the previous one. */
export interface MintCursor {
  at: string;
  seq: number;
}

/** The WHERE clause of a filtered mint query, always scoped to one org; every value a bound parameter. */
export function mintAuditWhere(orgId: string, filter: MintAuditFilterDto, before?: MintCursor): { sql: string; params: unknown[] } {
  const params: unknown[] = [orgId];
  const clauses = ['org_id = $1'];
  const add = (clause: string, value: unknown) => {
    params.push(value);
    clauses.push(clause.replace('?', `$${params.length}`));
  };
  if (filter.provider) add('provider = ?', filter.provider);
  if (filter.outcome) add('outcome = ?', filter.outcome);
  // Implied by the filter, and said so that a plan made for any value (a prepared statement's generic
  // plan) may still use the partial index of refusals.
  if (filter.outcome && filter.outcome !== 'issued') clauses.push(`outcome <> 'issued'`);
  if (filter.action) add('action = ?', filter.action);
  if (filter.actorId) add('actor_id = ?', filter.actorId);
  if (filter.subjectUserId) add('subject_user_id = ?', filter.subjectUserId);
  if (filter.from) add('at >= ?', new Date(filter.from));
  if (filter.to) add('at < ?', new Date(filter.to));
  if (before) {
    params.push(new Date(before.at), String(before.seq));
    clauses.push(`(at, seq) < ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
  }
  return { sql: clauses.join(' AND '), params };
}

/** A timestamp as JavaScript's toISOString writes it (UTC, milliseconds truncated as a Date truncates them). */
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * An entry (a row of `newest`) as the columns of MintAuditEntryView, named and ordered as its fields (see
 * toMintAuditView), for row_to_json: over a page, a third of the cost of json_build_object, which looks up
 * the type of every argument of every call, and compact (no spaces after colons).
 */
const ENTRY_VIEW = `SELECT newest.id, newest.org_id AS "orgId", ${iso('newest.at')} AS at, newest.provider, newest.action,
  (SELECT actor FROM (SELECT newest.actor_kind AS kind, newest.actor_id AS id) AS actor) AS actor, newest.subject_user_id AS "subjectUserId",
  newest.target, newest.outcome, newest.code, newest.token_fingerprint AS "tokenFingerprint", ${iso('newest.expires_at')} AS "expiresAt",
  newest.ip, newest.user_agent AS "userAgent", newest.request_id AS "requestId"`;

/** A page in one row: its entries' JSON joined by commas, the last one's position, and whether more follow. */
export interface MintAuditPageRow {
  items: string | null;
  /** The last entry's `at` as toISOString writes it, and its seq (bigint as text); null on an empty page. */
  last_at: string | null;
  last_seq: string | null;
  more: boolean;
}

/** Page statements by their WHERE clause, whose text depends on which filters are present, never on their values. */
const pageStatements = new Map<string, Sql>();

function pageStatement(where: { sql: string; params: unknown[] }, filter: MintAuditFilterDto): Sql {
  let statement = pageStatements.get(where.sql);
  if (!statement) {
    const limitParam = where.params.length + 1;
    statement = prepared(
      `mint_audit_page_${pageStatements.size}`,
      // One row, one string: the entries joined in the database rather than a row and three strings each.
      // The newest `limit` + 1 entries are read; the extra one only says that another page follows.
      `SELECT string_agg(item, ',' ORDER BY n) FILTER (WHERE n <= $${limitParam}) AS items, max(cursor_at) FILTER (WHERE n = least(total, $${limitParam})) AS last_at,
              max(seq) FILTER (WHERE n = least(total, $${limitParam})) AS last_seq, coalesce(max(total), 0) > $${limitParam} AS more
         FROM (SELECT row_to_json(entry)::text AS item, entry.at AS cursor_at, newest.seq,
                      row_number() OVER (ORDER BY newest.at DESC, newest.seq DESC) AS n, count(*) OVER () AS total
                 FROM (SELECT * FROM mint_audit WHERE ${where.sql} ORDER BY at DESC, seq DESC LIMIT $${limitParam} + 1) AS newest
                CROSS JOIN LATERAL (${ENTRY_VIEW}) AS entry) AS page`,
      // Planned once per connection: over the monthly partitions planning took 2 to 3 ms against well
      // under one of execution, and for these filters the generic plan (partitions pruned when it runs)
      // is the same index walk whatever the values. Not with `action`: no index leads with it and its
      // values are skewed (nearly every entry a mint), so a rare action is better planned for its value.
      { genericPlan: !filter.action },
    );
    pageStatements.set(where.sql, statement);
  }
  return statement;
}

/**
 * Entry rows (`entries`, a SELECT over mint_audit with org_id, seq and the other columns wanted) each with
 * the checkpoint stored at its seq, if any, in one statement and so in one snapshot.
 */
function entriesWithCheckpoints(entries: string, orderBy: 'e.seq' | 'e.seq DESC'): string {
  return `SELECT e.*, c.hash AS checkpoint_hash, c.at AS checkpoint_at, c.key_id AS checkpoint_key_id, c.signature AS checkpoint_signature
            FROM (${entries}) e
            LEFT JOIN audit_checkpoints c ON c.org_id = e.org_id AND c.seq = e.seq
           ORDER BY ${orderBy}`;
}

/**
 * The verifier's snapshot: anchor, head, entries and checkpoints as of one moment. The lock taken before
 * the snapshot makes a concurrent pruning either finish first or wait until the walk is done; the snapshot
 * is taken by the first statement after the lock (LOCK itself takes none).
 */
const CHAIN_SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; LOCK TABLE mint_audit IN ACCESS SHARE MODE';

const PARTITIONS: Sql = {
  text: `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'mint_audit'::regclass`,
};
const CREATE_PARTITION: Sql = { text: 'SELECT mintline_create_audit_partition($1)' };

/** Mints (not a call token's redeem or revoke) of one provider, or of every provider, per bucket; see mintCounts. */
function mintCountsSql(providerClause: string): Sql {
  return {
    text: `SELECT date_bin($4::interval, at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS at, provider,
                  count(*) FILTER (WHERE outcome = 'issued') AS issued,
                  count(*) FILTER (WHERE outcome = 'denied') AS denied,
                  count(*) FILTER (WHERE outcome = 'failed') AS failed
             FROM mint_audit
            WHERE org_id = $1 AND at >= $2 AND at < $3 AND action = 'mint'${providerClause}
            GROUP BY 1, 2
            ORDER BY 1, 2`,
  };
}
const MINT_COUNTS = mintCountsSql('');
const MINT_COUNTS_OF_PROVIDER = mintCountsSql(' AND provider = $5');

/** Mints of one bucket and provider by outcome (counts as PostgreSQL's bigint text). */
export interface MintCountsRow {
  at: Date;
  provider: string;
  issued: string;
  denied: string;
  failed: string;
}

/**
 * The reads of `mint_audit` and the management of its monthly partitions. Entries are written by the
 * mint audit writer's own statement (MintAuditWriter: the chain, the epochs and the entries in one).
 * An org's reads take its handle (or a long read bound to it); the partitions are every org's.
 */
export const MintAuditRepository = {
  /**
   * The handle's org's newest `limit` entries matching `filter` (before the cursor's position), newest first
   * by (at, seq), each rendered by PostgreSQL as its JSON (MintAuditEntryView) and joined in one row; the
   * statement is prepared per combination of filters (planned once per connection, not per page).
   */
  async page(db: TenantDb, filter: MintAuditFilterDto, limit: number, before?: MintCursor): Promise<MintAuditPageRow> {
    const where = mintAuditWhere(db.orgId, filter, before);
    return (await db.query<MintAuditPageRow>(pageStatement(where, filter), [...where.params, limit]))[0];
  },

  /** Every matching entry of the handle's org, newest first, streamed from a cursor of a long read. */
  exportRows(reads: LongReads, db: TenantDb, filter: MintAuditFilterDto): AsyncGenerator<MintAuditRow> {
    const where = mintAuditWhere(db.orgId, filter);
    return reads.stream<MintAuditRow>(db, `SELECT ${MINT_AUDIT_COLUMNS} FROM mint_audit WHERE ${where.sql} ORDER BY at DESC, seq DESC`, where.params);
  },

  /**
   * The handle's org's entries in a time range with their place in the chain and their checkpoints, newest
   * first by seq: the order of the plain export (`at` never goes backwards along a chain), and one
   * PostgreSQL streams with a merge join on the seq indexes instead of sorting the whole export.
   */
  exportChain(reads: LongReads, db: TenantDb, range: Pick<MintAuditFilterDto, 'from' | 'to'>): AsyncGenerator<CheckpointedRow> {
    const where = mintAuditWhere(db.orgId, { from: range.from, to: range.to });
    return reads.stream<CheckpointedRow>(
      db,
      entriesWithCheckpoints(`SELECT ${MINT_AUDIT_COLUMNS}, prev_hash, hash FROM mint_audit WHERE ${where.sql}`, 'e.seq DESC'),
      where.params,
    );
  },

  /** A long read of the handle's org in one snapshot of its chain (see CHAIN_SNAPSHOT); `finish` ends it. */
  chainSnapshot(reads: LongReads, db: TenantDb): Promise<{ read: LongRead; finish: () => Promise<void> }> {
    return reads.borrow(db, CHAIN_SNAPSHOT);
  },

  /** The long read's org's entries from `fromSeq` on, oldest first, with their checkpoints. */
  walk(read: LongRead, fromSeq: number): AsyncGenerator<CheckpointedRow> {
    return read.stream<CheckpointedRow>(entriesWithCheckpoints(`SELECT ${MINT_AUDIT_COLUMNS}, prev_hash, hash FROM mint_audit WHERE org_id = $1 AND seq >= $2`, 'e.seq'), [
      read.orgId,
      String(fromSeq),
    ]);
  },

  /**
   * The handle's org's mints in [from, to) counted per bucket (`stride`, a PostgreSQL interval; UTC-aligned
   * by date_bin from the Unix epoch) and provider, by outcome. The range reads the primary key (org_id, at,
   * seq), or the provider index (org_id, provider, at) when a provider is named; PostgreSQL groups and
   * counts, so the answer's size depends on the buckets, never on the number of mints.
   */
  async mintCounts(db: TenantDb, range: { from: Date; to: Date; stride: string }, provider?: string): Promise<MintCountsRow[]> {
    const values = [db.orgId, range.from, range.to, range.stride];
    return provider ? db.query<MintCountsRow>(MINT_COUNTS_OF_PROVIDER, [...values, provider]) : db.query<MintCountsRow>(MINT_COUNTS, values);
  },

  /** The partition of the month starting at `lower`, made by the owner's function (the service owns no table). */
  async createPartition(db: SystemDb, lower: Date): Promise<void> {
    await db.execute(CREATE_PARTITION, [lower.toISOString()]);
  },

  /** The partitions of mint_audit with their bounds, as PostgreSQL writes them (FOR VALUES FROM (..) TO (..), or DEFAULT). */
  async partitions(tx: SystemTx): Promise<Array<{ name: string; bound: string }>> {
    return tx.query<{ name: string; bound: string }>(PARTITIONS);
  },

  /** Of every org with entries in the named partitions, the last one (by seq) among them. */
  async lastEntriesIn(tx: SystemTx, partitions: readonly string[]): Promise<Array<Pick<ChainedRow, 'org_id' | 'seq' | 'hash'>>> {
    // Partition names come from the catalogue (partitions()), quoted as identifiers: never a value.
    const union = partitions.map((name) => `SELECT org_id, seq, hash FROM ${quoteIdentifier(name)}`).join(' UNION ALL ');
    return tx.query<Pick<ChainedRow, 'org_id' | 'seq' | 'hash'>>(`SELECT DISTINCT ON (org_id) org_id, seq, hash FROM (${union}) AS removed ORDER BY org_id, seq DESC`);
  },

  /** Drops a partition whole (retention), entries and all. */
  async dropPartition(tx: SystemTx, name: string): Promise<void> {
    await tx.query(`DROP TABLE ${quoteIdentifier(name)}`);
  },
};

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
