import Redis from 'ioredis';
import { ApiError } from '../errors/api-error';
import { CounterStore } from './counter-store';

/**
 * Counters in Redis, shared by every instance. A counter is created with the expiry of its window, so
 * Redis forgets finished windows by itself. If Redis does not answer within a second the request fails
 * with 503 rather than going through unlimited.
 */
/**
 * DECR only while the counter exists: a plain DECR on a counter whose window has just expired would
 * create it again at -1, without expiry.
 */
const DECREMENT_IF_LIVE = `if redis.call('exists', KEYS[1]) == 1 and tonumber(redis.call('get', KEYS[1])) > 0 then return redis.call('decr', KEYS[1]) end return 0`;

export class RedisCounterStore extends CounterStore {
  private readonly redis: Redis;

  constructor(url: string) {
    super();
    this.redis = new Redis(url, {
      lazyConnect: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: 1,
      commandTimeout: 1000,
      connectTimeout: 2000,
      keyPrefix: 'mintline:',
    });
    // Connection errors surface on the commands that need Redis; this keeps them out of the crash path.
    this.redis.on('error', () => undefined);
  }

  async increment(key: string, windowEndsAtMs: number): Promise<number> {
    try {
      const results = await this.redis.multi().incr(key).pexpireat(key, windowEndsAtMs).exec();
      const [error, count] = results?.[0] ?? [new Error('no reply'), null];
      if (error) throw error;
      return Number(count);
    } catch {
      throw ApiError.unavailable('The rate limiter (Redis) is unavailable');
    }
  }

  async decrement(key: string, _windowEndsAtMs: number): Promise<void> {
    try {
      await this.redis.eval(DECREMENT_IF_LIVE, 1, key);
    } catch {
      throw ApiError.unavailable('The rate limiter (Redis) is unavailable');
    }
  }

  async get(key: string): Promise<number> {
    try {
      return Number((await this.redis.get(key)) ?? 0);
    } catch {
      throw ApiError.unavailable('The rate limiter (Redis) is unavailable');
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
