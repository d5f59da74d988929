import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { RedisCounterStore } from './redis-counter-store';

/** Against the real Redis the e2e tests use (REDIS_URL, default 127.0.0.1:6379). */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('RedisCounterStore', () => {
  let store: RedisCounterStore;
  let redis: Redis;

  beforeAll(() => {
    store = new RedisCounterStore(REDIS_URL);
    redis = new Redis(REDIS_URL, { keyPrefix: 'mintline:' });
  });

  afterAll(async () => {
    await store.close();
    redis.disconnect();
  });

  const key = () => `spec-${randomBytes(6).toString('hex')}`;

  it('counts concurrent increments atomically, each caller reading its own count', async () => {
    const name = key();
    const results = await Promise.all(Array.from({ length: 50 }, () => store.increment(name, Date.now() + 60_000)));
    expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('decrement() takes back increments, never below 0, and keeps the window expiry', async () => {
    const name = key();
    const end = Date.now() + 60_000;
    await store.increment(name, end);
    await store.increment(name, end);
    await store.decrement(name, end);
    expect(await store.get(name)).toBe(1);
    await store.decrement(name, end);
    await store.decrement(name, end);
    expect(await store.get(name)).toBe(0);
    const ttl = await redis.pttl(name);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('decrement() of a counter whose window has expired does not bring it back (at -1, without expiry)', async () => {
    const name = key();
    await store.decrement(name, Date.now() + 60_000);
    expect(await redis.exists(name)).toBe(0);
    expect(await store.increment(name, Date.now() + 60_000)).toBe(1);
  });
});
