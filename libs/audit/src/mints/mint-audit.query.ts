import { Injectable } from '@nestjs/common';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import type { ChainedContent } from './audit-chain';
import { CursorCodec } from '../paging/cursor-codec';
import { MintAuditEntryView, MintAuditFilterDto, MintAuditPageView } from './mint-audit.dto';

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

/**
 * Mint history of one org, newest first by (at, seq) — the chain order, since `at` never goes backwards
 * along a chain and seq never repeats — with signed cursors that continue from the last (at, seq).
 */
@Injectable()
export class MintAuditQuery {
  constructor(
    private readonly db: Db,
    private readonly cursors: CursorCodec,
  ) {}

  async page(orgId: string, filter: MintAuditFilterDto, limit = 100, cursor?: string): Promise<MintAuditPageView> {
    const before = cursor ? this.decodeCursor(orgId, cursor) : undefined;
    const where = mintAuditWhere(orgId, filter, before);
    const rows = await this.db
      .forOrg(orgId)
      .query<MintAuditRow>(`SELECT ${MINT_AUDIT_COLUMNS} FROM mint_audit WHERE ${where.sql} ORDER BY at DESC, seq DESC LIMIT $${where.params.length + 1}`, [
        ...where.params,
        limit + 1,
      ]);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    const nextCursor = rows.length > limit && last ? this.cursors.encode('mints', orgId, { at: last.at.toISOString(), seq: Number(last.seq) }) : null;
    return { items: items.map(toMintAuditView), nextCursor };
  }

  private decodeCursor(orgId: string, cursor: string): MintCursor {
    const position = this.cursors.decode<{ at: string; seq: number }>('mints', orgId, cursor);
    if (typeof position.at !== 'string' || Number.isNaN(Date.parse(position.at)) || !Number.isSafeInteger(position.seq) || position.seq < 1) {
      throw ApiError.validation([{ field: 'cursor', message: 'is not a cursor this list gave out' }]);
    }
    return { at: position.at, seq: position.seq };
  }
}
