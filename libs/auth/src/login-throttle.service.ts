import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { CounterStore } from '@mintline/common/counters/counter-store';
import { ApiError } from '@mintline/common/errors/api-error';

/**
 * Failed logins allowed per window, per account (by email, known or not) and per client address. Only
 * failures count, so a whole contact centre behind one address can still log in at shift start.
 */
export const LOGIN_LIMITS = {
  perAccount: { failures: 10, windowMs: 15 * 60_000 },
  perIp: { failures: 100, windowMs: 15 * 60_000 },
} as const;

type Limit = { failures: number; windowMs: number };
type WindowKey = { name: string; windowEnd: number; limit: Limit };

/** The counts one admitted attempt holds; handed back (`handBack`) unless the password was wrong. */
export interface LoginAttempt {
  readonly keys: readonly WindowKey[];
}

/**
 * Slows password guessing: logins are counted per account and per IP in fixed windows (shared across
 * instances through Redis when REDIS_URL is set). An attempt is counted before its password is checked,
 * atomically, so however many arrive at once at most the limit are checked; past either limit every
 * attempt, right or wrong, is answered 429 until the window ends. A login that turns out not to be a
 * failure hands its count back, so the counters hold failures plus the attempts still being checked.
 */
@Injectable()
export class LoginThrottle {
  constructor(
    @Inject(CounterStore) private readonly counters: CounterStore,
    private readonly clock: Clock,
  ) {}

  async admit(email: string, ip: string | null): Promise<LoginAttempt> {
    const now = this.clock.nowMs();
    const counted: WindowKey[] = [];
    for (const key of this.keys(email, ip, now)) {
      counted.push(key);
      if ((await this.counters.increment(key.name, key.windowEnd)) > key.limit.failures) {
        // Not checked, so not a failure: the counts go back and stay at the limit.
        await this.release(counted);
        throw ApiError.rateLimited((key.windowEnd - now) / 1000, 'Too many failed logins; try again later');
      }
    }
    return { keys: counted };
  }

  /** The attempt was not a failed guess (right password, or it ended before a verdict): its counts go back. */
  async handBack(attempt: LoginAttempt): Promise<void> {
    await this.release(attempt.keys);
  }

  private async release(keys: readonly WindowKey[]): Promise<void> {
    for (const key of keys) await this.counters.decrement(key.name, key.windowEnd);
  }

  private keys(email: string, ip: string | null, now: number): WindowKey[] {
    const window = (prefix: string, limit: Limit): WindowKey => {
      const start = now - (now % limit.windowMs);
      return { name: `${prefix}:${start}`, windowEnd: start + limit.windowMs, limit };
    };
    const keys = [window(`login-account:${email}`, LOGIN_LIMITS.perAccount)];
    if (ip) keys.push(window(`login-ip:${ip}`, LOGIN_LIMITS.perIp));
    return keys;
  }
}
