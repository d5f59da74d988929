import { ManualClock } from '@mintline/common/clock';
import { ApiError } from '@mintline/common/errors/api-error';
import { CircuitBreaker } from './circuit-breaker';

describe('CircuitBreaker', () => {
  const unavailable = (): Promise<never> => Promise.reject(ApiError.provider('PROVIDER_UNAVAILABLE', 'down'));
  const authFailed = (): Promise<never> => Promise.reject(ApiError.provider('PROVIDER_AUTH_FAILED', 'bad key'));
  const ok = (): Promise<string> => Promise.resolve('ok');

  let clock: ManualClock;
  let breaker: CircuitBreaker;

  beforeEach(() => {
    clock = new ManualClock();
    breaker = new CircuitBreaker(clock, 'Upstream', { failureThreshold: 3, openMs: 10_000 });
  });

  async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
    return promise.then(
      () => undefined,
      (error: unknown) => (error as ApiError).code,
    );
  }

  it('opens after N consecutive failures and then fails fast without calling', async () => {
    for (let i = 0; i < 3; i += 1) await codeOf(breaker.run('a', unavailable));
    expect(breaker.state('a')).toBe('open');

    const call = jest.fn(ok);
    const error = await breaker.run('a', call).catch((e: unknown) => e as ApiError);
    expect(call).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 502, code: 'PROVIDER_UNAVAILABLE' });
    expect((error as ApiError).headers).toEqual({ 'retry-after': '10' });
  });

  it('keeps keys apart', async () => {
    for (let i = 0; i < 3; i += 1) await codeOf(breaker.run('a', unavailable));
    expect(await breaker.run('b', ok)).toBe('ok');
    expect(breaker.state('b')).toBe('closed');
  });

  it('resets the count on success and on answers that are not failures', async () => {
    await codeOf(breaker.run('a', unavailable));
    await codeOf(breaker.run('a', unavailable));
    await breaker.run('a', ok);
    await codeOf(breaker.run('a', unavailable));
    await codeOf(breaker.run('a', unavailable));
    await codeOf(breaker.run('a', authFailed));
    await codeOf(breaker.run('a', unavailable));
    expect(breaker.state('a')).toBe('closed');
  });

  it('lets one probe through after the open period; success closes it', async () => {
    for (let i = 0; i < 3; i += 1) await codeOf(breaker.run('a', unavailable));
    clock.advance(9_999);
    expect(await codeOf(breaker.run('a', ok))).toBe('PROVIDER_UNAVAILABLE');
    clock.advance(1);
    expect(breaker.state('a')).toBe('half-open');

    let release!: () => void;
    const probe = breaker.run('a', () => new Promise<string>((resolve) => (release = () => resolve('probed'))));
    // While the probe is out, everyone else still fails fast.
    const other = jest.fn(ok);
    expect(await codeOf(breaker.run('a', other))).toBe('PROVIDER_UNAVAILABLE');
    expect(other).not.toHaveBeenCalled();
    release();
    expect(await probe).toBe('probed');
    expect(breaker.state('a')).toBe('closed');
    expect(await breaker.run('a', ok)).toBe('ok');
  });

  it('re-opens for a full period when the probe fails', async () => {
    for (let i = 0; i < 3; i += 1) await codeOf(breaker.run('a', unavailable));
    clock.advance(10_000);
    expect(await codeOf(breaker.run('a', unavailable))).toBe('PROVIDER_UNAVAILABLE');
    expect(breaker.state('a')).toBe('open');
    const call = jest.fn(ok);
    clock.advance(5_000);
    await codeOf(breaker.run('a', call));
    expect(call).not.toHaveBeenCalled();
    clock.advance(5_000);
    expect(await breaker.run('a', call)).toBe('ok');
  });

  it('treats a probe answered with a non-failure (e.g. 401) as proof the upstream is back', async () => {
    for (let i = 0; i < 3; i += 1) await codeOf(breaker.run('a', unavailable));
    clock.advance(10_000);
    expect(await codeOf(breaker.run('a', authFailed))).toBe('PROVIDER_AUTH_FAILED');
    expect(breaker.state('a')).toBe('closed');
  });
});
