import { Injectable } from '@nestjs/common';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { CursorCodec } from '../paging/cursor-codec';
import { MintAuditEntryView, MintAuditFilterDto } from './mint-audit.dto';
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

/** The JSON text of a MintAuditPageView (the database renders its entries); served as it is. */
export type MintAuditPageJson = string & { readonly __mintAuditPage: true };

/**
 * Mint history of one org, newest first by (at, seq) — the chain order, since `at` never goes backwards
 * along a chain and seq never repeats — with signed cursors that continue from the last (at, seq).
 *
 * A page is the service's heaviest answer (up to 500 entries); measured over a million entries, parsing
 * each row into a Date-bearing object, mapping it to its view and serialising that again took most of a
 * page's CPU. So PostgreSQL renders each entry as its JSON and the page is joined from those texts (see
 * MintAuditRepository.page).
 */
@Injectable()
export class MintAuditQuery {
  constructor(
    private readonly db: Db,
    private readonly cursors: CursorCodec,
  ) {}

  async page(orgId: string, filter: MintAuditFilterDto, limit = 100, cursor?: string): Promise<MintAuditPageJson> {
    const before = cursor ? this.decodeCursor(orgId, cursor) : undefined;
    const page = await MintAuditRepository.page(this.db.forOrg(orgId), filter, limit, before);
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
