/**
 * Fixed-window counters for rate limits and quotas. In one process they live in memory; with
 * REDIS_URL they live in Redis so that every instance counts against the same numbers.
 */
export abstract class CounterStore {
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Adds one to `key` in the window that ends at `windowEndsAtMs`; returns the count after adding. */
  abstract increment(key: string, windowEndsAtMs: number): Promise<number>;
  /**
   * Takes back one earlier `increment` of `key` in the same window (never below 0); a window that has
   * already ended is left alone. Lets a caller count an attempt first and return it if it did not count.
   */
  abstract decrement(key: string, windowEndsAtMs: number): Promise<void>;
  /** The current count of `key` in its window (0 when there is none). */
  abstract get(key: string): Promise<number>;
  abstract close(): Promise<void>;
}

export class MemoryCounterStore extends CounterStore {
  private readonly counters = new Map<string, { count: number; expiresAt: number }>();
  private sweptAt = 0;

  constructor(private readonly nowMs: () => number = Date.now) {
    super();
  }

  async increment(key: string, windowEndsAtMs: number): Promise<number> {
    const now = this.nowMs();
    this.sweep(now);
    const entry = this.counters.get(key);
    if (!entry || entry.expiresAt <= now) {
      this.counters.set(key, { count: 1, expiresAt: windowEndsAtMs });
      return 1;
    }
    entry.count += 1;
    return entry.count;
  }

  async decrement(key: string, windowEndsAtMs: number): Promise<void> {
    const entry = this.counters.get(key);
    if (entry && entry.expiresAt > this.nowMs() && entry.expiresAt === windowEndsAtMs && entry.count > 0) entry.count -= 1;
  }

  async get(key: string): Promise<number> {
    const entry = this.counters.get(key);
    return entry && entry.expiresAt > this.nowMs() ? entry.count : 0;
  }

  async close(): Promise<void> {
    this.counters.clear();
  }

  /** Drops finished windows now and then, so memory stays bounded by the live windows. */
  private sweep(now: number): void {
    if (now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    for (const [key, entry] of this.counters) if (entry.expiresAt <= now) this.counters.delete(key);
  }
}
