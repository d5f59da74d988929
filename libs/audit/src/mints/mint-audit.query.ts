import { Injectable } from '@nestjs/common';
import { Db } from '@mintline/common/database/db';
import { prepared, Sql } from '@mintline/common/database/statement-batch';
import { ApiError } from '@mintline/common/errors/api-error';
import type { ChainedContent } from './audit-chain';
import { CursorCodec } from '../paging/cursor-codec';
import { MintAuditEntryView, MintAuditFilterDto } from './mint-audit.dto';

export const MINT_AUDIT_COLUMNS = `id, org_id, seq, at, provider, action, actor_kind, actor_id, subject_user_id, target, outcome, code,
                 token_fingerprint, expires_at, ip, user_agent, request_id`;

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

export function toMintAuditView(row: MintAuditRow): MintAuditEntryView {
  return {
    id: row.id,
    orgId: row.org_id,
    at: row.at.toISOString(),
    provider: row.provider,
    action: row.action,
    actor: { kind: row.actor_kind, id: row.actor_id },
    subjectUserId: row.subject_user_id,
    target: row.target,
    outcome: row.outcome,
    code: row.code,
    tokenFingerprint: row.token_fingerprint,
    expiresAt: row.expires_at?.toISOString() ?? null,
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
  };
}

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

/** Builds the WHERE clause of a filtered mint query; always scoped to one org. */
export interface MintCursor {
  at: string;
  seq: number;
}

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

/** An entry as the JSON of MintAuditEntryView, fields in its order (see toMintAuditView), rendered by PostgreSQL. */
const ENTRY_JSON = `json_build_object('id', id, 'orgId', org_id, 'at', ${iso('at')}, 'provider', provider, 'action', action,
  'actor', json_build_object('kind', actor_kind, 'id', actor_id), 'subjectUserId', subject_user_id, 'target', target, 'outcome', outcome,
  'code', code, 'tokenFingerprint', token_fingerprint, 'expiresAt', ${iso('expires_at')}, 'ip', ip, 'userAgent', user_agent, 'requestId', request_id)::text`;

/** The JSON text of a MintAuditPageView (the database renders its entries); served as it is. */
export type MintAuditPageJson = string & { readonly __mintAuditPage: true };

/**
 * Mint history of one org, newest first by (at, seq) — the chain order, since `at` never goes backwards
 * along a chain and seq never repeats — with signed cursors that continue from the last (at, seq).
 *
 * A page is the service's heaviest answer (up to 500 entries); measured over a million entries, parsing
 * each row into a Date-bearing object, mapping it to its view and serialising that again took most of a
 * page's CPU. So PostgreSQL renders each entry as its JSON and the page is joined from those texts. The
 * statement is prepared per combination of filters (planned once per connection, not per page).
 */
@Injectable()
export class MintAuditQuery {
  constructor(
    private readonly db: Db,
    private readonly cursors: CursorCodec,
  ) {}

  async page(orgId: string, filter: MintAuditFilterDto, limit = 100, cursor?: string): Promise<MintAuditPageJson> {
    const before = cursor ? this.decodeCursor(orgId, cursor) : undefined;
    const where = mintAuditWhere(orgId, filter, before);
    const [page] = await this.db.forOrg(orgId).query<PageRow>(pageStatement(where), [...where.params, limit]);
    const nextCursor = page.more ? this.cursors.encode('mints', orgId, { at: page.last_at!, seq: Number(page.last_seq) }) : null;
    return `{"items":[${page.items ?? ''}],"nextCursor":${JSON.stringify(nextCursor)}}` as MintAuditPageJson;
  }

  private decodeCursor(orgId: string, cursor: string): MintCursor {
    const position = this.cursors.decode<{ at: string; seq: number }>('mints', orgId, cursor);
    if (typeof position.at !== 'string' || Number.isNaN(Date.parse(position.at)) || !Number.isSafeInteger(position.seq) || position.seq < 1) {
      throw ApiError.validation([{ field: 'cursor', message: 'is not a cursor this list gave out' }]);
    }
    return { at: position.at, seq: position.seq };
  }
}

/** A page in one row: its entries' JSON joined by commas, the last one's position, and whether more follow. */
interface PageRow {
  items: string | null;
  last_at: string | null;
  last_seq: string | null;
  more: boolean;
}

/** Page statements by their WHERE clause, whose text depends on which filters are present, never on their values. */
const pageStatements = new Map<string, Sql>();

function pageStatement(where: { sql: string; params: unknown[] }): Sql {
  let statement = pageStatements.get(where.sql);
  if (!statement) {
    const limitParam = where.params.length + 1;
    statement = prepared(
      `mint_audit_page_${pageStatements.size}`,
      // One row, one string: the entries joined in the database rather than a row and three strings each.
      // The newest `limit` + 1 entries are read; the extra one only says that another page follows.
      `SELECT string_agg(item, ',' ORDER BY n) FILTER (WHERE n <= $${limitParam}) AS items, max(cursor_at) FILTER (WHERE n = least(total, $${limitParam})) AS last_at,
              max(seq) FILTER (WHERE n = least(total, $${limitParam})) AS last_seq, coalesce(max(total), 0) > $${limitParam} AS more
         FROM (SELECT ${ENTRY_JSON} AS item, ${iso('at')} AS cursor_at, seq, row_number() OVER (ORDER BY at DESC, seq DESC) AS n, count(*) OVER () AS total
                 FROM (SELECT * FROM mint_audit WHERE ${where.sql} ORDER BY at DESC, seq DESC LIMIT $${limitParam} + 1) AS newest) AS page`,
    );
    pageStatements.set(where.sql, statement);
  }
  return statement;
}
