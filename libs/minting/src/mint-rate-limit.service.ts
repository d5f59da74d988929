import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { CounterStore } from '@mintline/common/counters/counter-store';
import { ApiError } from '@mintline/common/errors/api-error';
import { OrgSettingsService } from '@mintline/tenancy/orgs/org-settings.service';

const WINDOW_MS = 60_000;

/** A mint's place in its org's window: a mint checked again (MintPipeline) keeps it instead of counting twice. */
export interface MintCount {
  key: string;
  count: number;
}

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

  /**
   * Counts a mint and refuses it (429) if that takes the org over its limit. `counted` is told the mint's
   * count; a mint done over hands it back as `previous` and is judged by it again (against the limit as
   * it is now) rather than counted twice.
   */
  async admit(orgId: string, previous?: MintCount, counted?: (count: MintCount) => void): Promise<void> {
    const now = this.clock.nowMs();
    const windowStart = now - (now % WINDOW_MS);
    const windowEnd = windowStart + WINDOW_MS;
    const key = `mints:${orgId}:${windowStart}`;
    const [limit, count] = await Promise.all([this.limitOf(orgId), previous?.key === key ? previous.count : this.counters.increment(key, windowEnd)]);
    counted?.({ key, count });
    if (count > limit) throw ApiError.rateLimited((windowEnd - now) / 1000, `This org may mint ${limit} tokens per minute`);
  }

  private async limitOf(orgId: string): Promise<number> {
    return (await this.orgSettings.get(orgId))?.mintsPerMinute ?? 0;
  }
}
