import type { CacheTopic, InvalidationBus } from './invalidation-bus';

/**
 * A bounded in-memory cache in front of a loader, kept correct by the invalidation bus: entries are
 * dropped when their key is published, all of them when the bus loses its connection, and none are
 * served while the bus is not live. `ttlMs` bounds staleness from any change made outside the service.
 */
export class ReadThroughCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private generation = 0;

  constructor(
    private readonly bus: InvalidationBus,
    topic: CacheTopic,
    private readonly options: {
      ttlMs: number;
      maxEntries: number;
      now: () => number;
      /** Which loaded values to keep; e.g. not "no such key" answers, which anyone can make up by the million. */
      keep?: (value: V) => boolean;
    },
  ) {
    bus.on(topic, (key) => this.delete(key));
    bus.onReset(topic, () => this.clear());
  }

  async get(key: string, load: () => Promise<V>): Promise<V> {
    if (!this.bus.live) return load();
    const now = this.options.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    const generation = this.generation;
    const value = await load();
    // An invalidation that arrived while loading wins: the loaded value may predate it.
    if (generation === this.generation && this.bus.live && (this.options.keep?.(value) ?? true)) this.set(key, value, now);
    return value;
  }

  delete(key: string): void {
    this.generation += 1;
    this.entries.delete(key);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  private set(key: string, value: V, now: number): void {
    if (this.entries.size >= this.options.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expiresAt: now + this.options.ttlMs });
  }
}
