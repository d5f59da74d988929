import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { ReadThroughCache } from '@mintline/common/cache/read-through-cache';
import { Clock } from '@mintline/common/clock';

export interface OrgSettings {
  webrtcEnabled: boolean;
  mintsPerMinute: number;
}

/** An org's feature switches and limits, as every mint and guarded route reads them: cached, kept fresh by the bus. */
@Injectable()
export class OrgSettingsService {
  private readonly cache: ReadThroughCache<OrgSettings | null>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    bus: InvalidationBus,
    clock: Clock,
  ) {
    this.cache = new ReadThroughCache(bus, 'org', { ttlMs: 60_000, maxEntries: 50_000, now: () => clock.nowMs() });
  }

  get(orgId: string): Promise<OrgSettings | null> {
    return this.cache.get(orgId, async () => {
      const rows: Array<{ webrtc_enabled: boolean; mints_per_minute: number }> = await this.dataSource.query(
        'SELECT webrtc_enabled, mints_per_minute FROM orgs WHERE id = $1',
        [orgId],
      );
      return rows[0] ? { webrtcEnabled: rows[0].webrtc_enabled, mintsPerMinute: rows[0].mints_per_minute } : null;
    });
  }
}
