import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { CounterStore } from '@mintline/common/counters/counter-store';
import { ApiError } from '@mintline/common/errors/api-error';
import { OrgSettingsService } from '@mintline/tenancy/orgs/org-settings.service';

const WINDOW_MS = 60_000;

/**
 * Every mint of every provider counts against the org's limits.mintsPerMinute, in fixed one-minute
 * windows (in memory, or in Redis with REDIS_URL so that all instances share the count).
 */
@Injectable()
export class MintRateLimit {
  constructor(
    private readonly orgSettings: OrgSettingsService,
    @Inject(CounterStore) private readonly counters: CounterStore,
    private readonly clock: Clock,
  ) {}

  async admit(orgId: string): Promise<void> {
    const now = this.clock.nowMs();
    const windowStart = now - (now % WINDOW_MS);
    const windowEnd = windowStart + WINDOW_MS;
    const [limit, count] = await Promise.all([this.limitOf(orgId), this.counters.increment(`mints:${orgId}:${windowStart}`, windowEnd)]);
    if (count > limit) throw ApiError.rateLimited((windowEnd - now) / 1000, `This org may mint ${limit} tokens per minute`);
  }

  private async limitOf(orgId: string): Promise<number> {
    return (await this.orgSettings.get(orgId))?.mintsPerMinute ?? 0;
  }
}
