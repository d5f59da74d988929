import { Injectable } from '@nestjs/common';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { CursorCodec } from '../paging/cursor-codec';
import { ConfigEventPageView, ConfigEventQueryDto } from './config-event.dto';

interface EventRow {
  id: string;
  org_id: string;
  at: Date;
  actor_kind: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  details: Record<string, unknown>;
  request_id: string | null;
}

/** Configuration events of one org, newest first, paged by (at, id) so equal timestamps never skip or repeat. */
@Injectable()
export class ConfigEventsQuery {
  constructor(
    private readonly db: Db,
    private readonly cursors: CursorCodec,
  ) {}

  async page(orgId: string, query: ConfigEventQueryDto): Promise<ConfigEventPageView> {
    const limit = query.limit ?? 100;
    const params: unknown[] = [orgId];
    const clauses = ['org_id = $1'];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      clauses.push(clause.replace(/\?/g, `$${params.length}`));
    };
    if (query.targetType) add('target_type = ?', query.targetType);
    if (query.action) add('action = ?', query.action);
    if (query.actorId) add('actor_id = ?', query.actorId);
    if (query.from) add('at >= ?', new Date(query.from));
    if (query.to) add('at < ?', new Date(query.to));
    if (query.cursor) {
      const position = this.cursors.decode<{ at: string; id: string }>('events', orgId, query.cursor);
      if (typeof position.at !== 'string' || typeof position.id !== 'string' || Number.isNaN(Date.parse(position.at))) {
        throw ApiError.validation([{ field: 'cursor', message: 'is not a cursor this list gave out' }]);
      }
      params.push(position.at, position.id);
      clauses.push(`(at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit + 1);
    const rows = await this.db.forOrg(orgId).query<EventRow>(
      `SELECT id, org_id, at, actor_kind, actor_id, action, target_type, target_id, details, request_id
         FROM config_events WHERE ${clauses.join(' AND ')} ORDER BY at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map((row) => ({
        id: row.id,
        orgId: row.org_id,
        at: row.at.toISOString(),
        actor: { kind: row.actor_kind, id: row.actor_id },
        action: row.action,
        targetType: row.target_type,
        targetId: row.target_id,
        details: row.details,
        requestId: row.request_id,
      })),
      nextCursor: rows.length > limit && last ? this.cursors.encode('events', orgId, { at: last.at.toISOString(), id: last.id }) : null,
    };
  }
}
