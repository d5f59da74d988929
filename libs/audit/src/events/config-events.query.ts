import { Injectable } from '@nestjs/common';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { CursorCodec } from '../paging/cursor-codec';
import { ConfigEventPageView, ConfigEventQueryDto } from './config-event.dto';
import { ConfigEventFilter, ConfigEventsRepository } from './config-events.repository';

/** Configuration events of one org, newest first, paged by (at, id) so equal timestamps never skip or repeat. */
@Injectable()
export class ConfigEventsQuery {
  constructor(
    private readonly db: Db,
    private readonly cursors: CursorCodec,
  ) {}

  async page(orgId: string, query: ConfigEventQueryDto): Promise<ConfigEventPageView> {
    const limit = query.limit ?? 100;
    const filter: ConfigEventFilter = {
      targetType: query.targetType,
      action: query.action,
      actorId: query.actorId,
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
    };
    if (query.cursor) {
      const position = this.cursors.decode<{ at: string; id: string }>('events', orgId, query.cursor);
      if (typeof position.at !== 'string' || typeof position.id !== 'string' || Number.isNaN(Date.parse(position.at))) {
        throw ApiError.validation([{ field: 'cursor', message: 'is not a cursor this list gave out' }]);
      }
      filter.before = { at: position.at, id: position.id };
    }
    const rows = await ConfigEventsRepository.page(this.db.forOrg(orgId), filter, limit + 1);
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
