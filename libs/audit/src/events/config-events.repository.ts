import type { AnyTx, TenantDb } from '@mintline/common/database/db';
import type { Sql } from '@mintline/common/database/statement-batch';

/** A row of `config_events`: a configuration change, who made it and when. Never holds a secret value. */
export interface ConfigEventRow {
  id: string;
  org_id: string;
  at: Date;
  actor_kind: 'user' | 'api_key' | 'operator' | 'system';
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  details: Record<string, unknown>;
  request_id: string | null;
}

/** What a page of events may be narrowed by; `before` continues after the last (at, id) of the previous page. */
export interface ConfigEventFilter {
  targetType?: string;
  action?: string;
  actorId?: string;
  from?: Date;
  to?: Date;
  before?: { at: string; id: string };
}

const INSERT: Sql = {
  text: `INSERT INTO config_events (id, org_id, at, actor_kind, actor_id, action, target_type, target_id, details, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
};

export const ConfigEventsRepository = {
  /**
   * Appends an event within the transaction of the change it records. A tenant transaction writes only
   * its own org's events (row-level security checks `org_id`); a system one names the org in the row.
   */
  async insert(tx: AnyTx, row: ConfigEventRow): Promise<void> {
    await tx.query(INSERT, [
      row.id,
      row.org_id,
      row.at,
      row.actor_kind,
      row.actor_id,
      row.action,
      row.target_type,
      row.target_id,
      // jsonb: sent as its JSON text (pg would send a bare array as a PostgreSQL array).
      JSON.stringify(row.details),
      row.request_id,
    ]);
  },

  /** The handle's org's events matching `filter`, newest first by (at, id), at most `limit`. */
  async page(db: TenantDb, filter: ConfigEventFilter, limit: number): Promise<ConfigEventRow[]> {
    const params: unknown[] = [db.orgId];
    const clauses = ['org_id = $1'];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      clauses.push(clause.replace(/\?/g, `$${params.length}`));
    };
    if (filter.targetType) add('target_type = ?', filter.targetType);
    if (filter.action) add('action = ?', filter.action);
    if (filter.actorId) add('actor_id = ?', filter.actorId);
    if (filter.from) add('at >= ?', filter.from);
    if (filter.to) add('at < ?', filter.to);
    if (filter.before) {
      params.push(filter.before.at, filter.before.id);
      clauses.push(`(at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit);
    return db.query<ConfigEventRow>(
      `SELECT id, org_id, at, actor_kind, actor_id, action, target_type, target_id, details, request_id
         FROM config_events WHERE ${clauses.join(' AND ')} ORDER BY at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
  },
};
