import { ApiError } from '@mintline/common/errors/api-error';
import { Clock } from '@mintline/common/clock';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long an open circuit fails fast before letting one probe through. Default 15000 ms. */
  openMs?: number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Counts as a failure by default: whatever was already mapped to PROVIDER_UNAVAILABLE (5xx, timeout, connection). */
export type FailureClassifier = (error: unknown) => boolean;

interface KeyState {
  failures: number;
  openUntil?: number;
  probing: boolean;
}

const isUnavailable: FailureClassifier = (error) => error instanceof ApiError && error.code === 'PROVIDER_UNAVAILABLE';

/**
 * One breaker per key (e.g. a SignalWire space origin). After `failureThreshold` consecutive failures
 * it opens and fails fast with PROVIDER_UNAVAILABLE for `openMs`; then one call goes through as a
 * probe while the others keep failing fast. A probe that succeeds closes it, one that fails re-opens it.
 * Any answer that is not a failure (even a 401) proves the upstream reachable and resets the count.
 */
export class CircuitBreaker {
  private readonly failureThreshold: number;
  private readonly openMs: number;
  /** Only keys with failures are kept, so the map does not grow with healthy upstreams. */
  private readonly states = new Map<string, KeyState>();

  constructor(
    private readonly clock: Clock,
    private readonly label: string,
    options: CircuitBreakerOptions = {},
    private readonly isFailure: FailureClassifier = isUnavailable,
  ) {
    this.failureThreshold = Math.max(1, options.failureThreshold ?? 5);
    this.openMs = Math.max(0, options.openMs ?? 15_000);
  }

  async run<T>(key: string, call: () => Promise<T>): Promise<T> {
    const state = this.states.get(key);
    let probe = false;
    if (state?.openUntil !== undefined) {
      const now = this.clock.nowMs();
      if (now < state.openUntil || state.probing) throw this.openError(Math.max(0, state.openUntil - now));
      state.probing = true;
      probe = true;
    }
    try {
      const result = await call();
      this.states.delete(key);
      return result;
    } catch (error) {
      if (this.isFailure(error)) this.recordFailure(key, probe);
      else this.states.delete(key);
      throw error;
    } finally {
      if (probe) {
        const current = this.states.get(key);
        if (current) current.probing = false;
      }
    }
  }

  state(key: string): CircuitState {
    const state = this.states.get(key);
    if (state?.openUntil === undefined) return 'closed';
    return this.clock.nowMs() < state.openUntil ? 'open' : 'half-open';
  }

  private recordFailure(key: string, probe: boolean): void {
    const state = this.states.get(key) ?? { failures: 0, probing: false };
    state.failures += 1;
    if (probe || state.failures >= this.failureThreshold) state.openUntil = this.clock.nowMs() + this.openMs;
    this.states.set(key, state);
  }

  private openError(remainingMs: number): ApiError {
    const seconds = Math.max(1, Math.ceil(remainingMs / 1000));
    return new ApiError(502, 'PROVIDER_UNAVAILABLE', `${this.label} is failing; requests are paused for ${seconds} s`, undefined, { 'retry-after': String(seconds) });
  }
}
