import { Injectable } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { Db } from '@mintline/common/database/db';
import { MintStatsPointView, MintStatsQueryDto, MintStatsView } from './mint-stats.dto';
import { BUCKET_INTERVAL, StatsWindow, statsWindow } from './mint-stats.window';

interface StatsRow {
  at: Date;
  provider: string;
  issued: string;
  denied: string;
  failed: string;
}

/**
 * Mints of one org counted per bucket and provider, by outcome. Only `action = 'mint'` counts (a call
 * token's redeem and revoke are entries of the same log but no mint). The range reads the primary key
 * (org_id, at, seq), or the provider index (org_id, provider, at) when a provider is named; PostgreSQL
 * groups and counts, so the answer's size depends on the buckets, never on the number of mints.
 */
export function mintStatsStatement(orgId: string, window: StatsWindow, provider?: string): { text: string; values: unknown[] } {
  const values: unknown[] = [orgId, window.from, window.to, BUCKET_INTERVAL[window.bucket]];
  let providerClause = '';
  if (provider) {
    values.push(provider);
    providerClause = ` AND provider = $${values.length}`;
  }
  const text = `SELECT date_bin($4::interval, at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS at, provider,
                       count(*) FILTER (WHERE outcome = 'issued') AS issued,
                       count(*) FILTER (WHERE outcome = 'denied') AS denied,
                       count(*) FILTER (WHERE outcome = 'failed') AS failed
                  FROM mint_audit
                 WHERE org_id = $1 AND at >= $2 AND at < $3 AND action = 'mint'${providerClause}
                 GROUP BY 1, 2
                 ORDER BY 1, 2`;
  return { text, values };
}

export function toStatsPoint(row: StatsRow): MintStatsPointView {
  return { at: row.at.toISOString(), provider: row.provider, issued: Number(row.issued), denied: Number(row.denied), failed: Number(row.failed) };
}

@Injectable()
export class MintStatsQuery {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async stats(orgId: string, query: MintStatsQueryDto): Promise<MintStatsView> {
    const window = statsWindow(query, this.clock.nowMs());
    const statement = mintStatsStatement(orgId, window, query.provider);
    const rows = await this.db.forOrg(orgId).query<StatsRow>(statement.text, statement.values);
    return { bucket: window.bucket, from: window.from.toISOString(), to: window.to.toISOString(), series: rows.map(toStatsPoint) };
  }
}
