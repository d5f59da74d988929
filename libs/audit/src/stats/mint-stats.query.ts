import { Injectable } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { Db } from '@mintline/common/database/db';
import { MintAuditRepository, MintCountsRow } from '../mints/mint-audit.repository';
import { MintStatsPointView, MintStatsQueryDto, MintStatsView } from './mint-stats.dto';
import { BUCKET_INTERVAL, statsWindow } from './mint-stats.window';

export function toStatsPoint(row: MintCountsRow): MintStatsPointView {
  return { at: row.at.toISOString(), provider: row.provider, issued: Number(row.issued), denied: Number(row.denied), failed: Number(row.failed) };
}

/**
 * Mints of one org counted per bucket and provider, by outcome. Only `action = 'mint'` counts (a call
 * token's redeem and revoke are entries of the same log but no mint); PostgreSQL counts (see
 * MintAuditRepository.mintCounts).
 */
@Injectable()
export class MintStatsQuery {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async stats(orgId: string, query: MintStatsQueryDto): Promise<MintStatsView> {
    const window = statsWindow(query, this.clock.nowMs());
    const rows = await MintAuditRepository.mintCounts(this.db.forOrg(orgId), { from: window.from, to: window.to, stride: BUCKET_INTERVAL[window.bucket] }, query.provider);
    return { bucket: window.bucket, from: window.from.toISOString(), to: window.to.toISOString(), series: rows.map(toStatsPoint) };
  }
}
