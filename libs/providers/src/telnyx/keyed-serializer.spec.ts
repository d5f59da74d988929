import { KeyedSerializer } from './keyed-serializer';

describe('KeyedSerializer', () => {
  it('runs the tasks of one key one at a time, in order, and other keys alongside', async () => {
    const serializer = new KeyedSerializer();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const task = (name: string, ms: number) => async () => {
      running += 1;
      most = Math.max(most, running);
      log.push(`start ${name}`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      log.push(`end ${name}`);
      running -= 1;
      return name;
    };
    const results = await Promise.all([serializer.run('a', task('a1', 20)), serializer.run('a', task('a2', 1)), serializer.run('a', task('a3', 1))]);
    expect(results).toEqual(['a1', 'a2', 'a3']);
    expect(log).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
    expect(most).toBe(1);

    running = 0;
    most = 0;
    await Promise.all([serializer.run('x', task('x', 20)), serializer.run('y', task('y', 20))]);
    expect(most).toBe(2);
  });

  it('goes on after a task fails, and forgets keys with no work in flight', async () => {
    const serializer = new KeyedSerializer();
    const failed = serializer.run('k', () => Promise.reject(new Error('no')));
    const next = serializer.run('k', () => Promise.resolve('yes'));
    await expect(failed).rejects.toThrow('no');
    await expect(next).resolves.toBe('yes');
    await new Promise((resolve) => setImmediate(resolve));
    expect(serializer.size).toBe(0);
  });
});
