import { Injectable } from '@nestjs/common';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { ReadThroughCache } from '@mintline/common/cache/read-through-cache';
import { Clock } from '@mintline/common/clock';
import { Db } from '@mintline/common/database/db';
import { OrgsRepository } from './orgs.repository';

export interface OrgSettings {
  webrtcEnabled: boolean;
  mintsPerMinute: number;
}

/** An org's feature switches and limits, as every mint and guarded route reads them: cached, kept fresh by the bus. */
@Injectable()
export class OrgSettingsService {
  private readonly cache: ReadThroughCache<OrgSettings | null>;

  constructor(
    private readonly db: Db,
    bus: InvalidationBus,
    clock: Clock,
  ) {
    this.cache = new ReadThroughCache(bus, 'org', { ttlMs: 60_000, maxEntries: 50_000, now: () => clock.nowMs() });
  }

  get(orgId: string): Promise<OrgSettings | null> {
    return this.cache.get(orgId, async () => {
      const row = await OrgsRepository.settings(this.db.forOrg(orgId));
      return row ? { webrtcEnabled: row.webrtc_enabled, mintsPerMinute: row.mints_per_minute } : null;
    });
  }
}
