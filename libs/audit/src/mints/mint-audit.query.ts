import { Injectable } from '@nestjs/common';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { CursorCodec } from '../paging/cursor-codec';
import { MintAuditEntryView, MintAuditFilterDto, MintAuditPageView } from './mint-audit.dto';
import { MintAuditRepository, MintAuditRow, MintCursor } from './mint-audit.repository';

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
    const rows = await MintAuditRepository.page(this.db.forOrg(orgId), filter, limit + 1, before);
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
