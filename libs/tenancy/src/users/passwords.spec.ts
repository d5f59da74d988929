import { AppConfig } from '@mintline/common/config';
import { Gate, Passwords } from './passwords';

describe('Gate', () => {
  function deferred(): { promise: Promise<void>; resolve: () => void } {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  }

  it('runs at most its size at once and the rest in the order they came', async () => {
    const gate = new Gate(2);
    const started: number[] = [];
    const tasks = [0, 1, 2, 3].map(() => deferred());
    const runs = tasks.map((task, i) =>
      gate.run(async () => {
        started.push(i);
        await task.promise;
        return i;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1]);
    expect([gate.running, gate.waiting]).toEqual([2, 2]);
    tasks[1].resolve();
    await runs[1];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    expect([gate.running, gate.waiting]).toEqual([2, 1]);
    tasks.forEach((task) => task.resolve());
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect([gate.running, gate.waiting]).toEqual([0, 0]);
  });

  it('gives the slot on when a task fails', async () => {
    const gate = new Gate(1);
    const failing = gate.run(() => Promise.reject(new Error('boom')));
    const next = gate.run(() => Promise.resolve('ran'));
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
    expect(gate.running).toBe(0);
  });
});

describe('Passwords', () => {
  const passwords = new Passwords({ passwordHashConcurrency: 1 } as AppConfig);

  it('hashes with argon2id and verifies, through the gate', async () => {
    const hash = await passwords.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=65536,p=4,t=3\$/);
    const [right, wrong] = await Promise.all([passwords.verify(hash, 'correct horse battery staple'), passwords.verify(hash, 'wrong')]);
    expect([right, wrong]).toEqual([true, false]);
    expect(await passwords.verifyDecoy('anything')).toBe(false);
  });

  it('answers false, not an error, for a hash it cannot read', async () => {
    expect(await passwords.verify('not a hash', 'x')).toBe(false);
  });
});
