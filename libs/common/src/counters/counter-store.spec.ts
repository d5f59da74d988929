import { MemoryCounterStore } from './counter-store';

describe('MemoryCounterStore', () => {
  let now: number;
  let store: MemoryCounterStore;

  beforeEach(() => {
    now = Date.UTC(2026, 0, 1, 12, 0, 10);
    store = new MemoryCounterStore(() => now);
  });

  afterEach(async () => {
    await store.close();
  });

  const windowEnd = () => now - (now % 60_000) + 60_000;

  it('counts up within a window, per key', async () => {
    expect(await store.increment('a', windowEnd())).toBe(1);
    expect(await store.increment('a', windowEnd())).toBe(2);
    expect(await store.increment('b', windowEnd())).toBe(1);
    expect(await store.increment('a', windowEnd())).toBe(3);
  });

  it('starts again from 1 once the window has ended (at its end instant, not after)', async () => {
    const end = windowEnd();
    await store.increment('k', end);
    await store.increment('k', end);
    now = end - 1;
    expect(await store.increment('k', end)).toBe(3);
    now = end;
    expect(await store.increment('k', end + 60_000)).toBe(1);
    expect(await store.increment('k', end + 60_000)).toBe(2);
  });

  it('a stale key whose window passed long ago restarts even when reused with the same name', async () => {
    await store.increment('same', now + 1000);
    now += 10 * 60_000;
    expect(await store.increment('same', now + 1000)).toBe(1);
  });

  it('sweeps finished windows so memory stays bounded, without touching live ones', async () => {
    for (let i = 0; i < 100; i++) await store.increment(`old-${i}`, now + 1000);
    await store.increment('live', now + 10 * 60_000);
    now += 2 * 60_000;
    await store.increment('trigger', now + 1000);
    const counters = (store as unknown as { counters: Map<string, unknown> }).counters;
    expect([...counters.keys()].sort()).toEqual(['live', 'trigger']);
    expect(await store.increment('live', now + 10 * 60_000)).toBe(2);
  });

  it('many concurrent increments are all counted', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, () => store.increment('burst', windowEnd())));
    expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('get() reads the count of a live window without adding, and 0 once it has ended or never began', async () => {
    const end = windowEnd();
    expect(await store.get('g')).toBe(0);
    await store.increment('g', end);
    await store.increment('g', end);
    expect(await store.get('g')).toBe(2);
    expect(await store.get('g')).toBe(2);
    now = end;
    expect(await store.get('g')).toBe(0);
  });

  it('decrement() takes back one increment of a live window, never below 0', async () => {
    const end = windowEnd();
    await store.increment('d', end);
    await store.increment('d', end);
    await store.decrement('d', end);
    expect(await store.get('d')).toBe(1);
    await store.decrement('d', end);
    await store.decrement('d', end);
    expect(await store.get('d')).toBe(0);
    expect(await store.increment('d', end)).toBe(1);
  });

  it('decrement() leaves a key alone once its window has ended, or when it is another window', async () => {
    const end = windowEnd();
    await store.decrement('never', end);
    expect(await store.increment('never', end)).toBe(1);
    await store.increment('other', end);
    await store.decrement('other', end + 60_000);
    expect(await store.get('other')).toBe(1);
    now = end;
    await store.decrement('other', end);
    expect(await store.increment('other', end + 60_000)).toBe(1);
  });

  it('concurrent increments and decrements leave the exact balance', async () => {
    const end = windowEnd();
    await Promise.all(Array.from({ length: 50 }, () => store.increment('balance', end)));
    await Promise.all([...Array.from({ length: 20 }, () => store.decrement('balance', end)), ...Array.from({ length: 10 }, () => store.increment('balance', end))]);
    expect(await store.get('balance')).toBe(40);
  });

  it('close() forgets every counter', async () => {
    await store.increment('x', windowEnd());
    await store.close();
    expect(await store.increment('x', windowEnd())).toBe(1);
  });

  it('defaults to the real clock', async () => {
    const real = new MemoryCounterStore();
    expect(await real.increment('r', Date.now() + 60_000)).toBe(1);
    expect(await real.increment('r', Date.now() + 60_000)).toBe(2);
    await real.close();
  });
});
