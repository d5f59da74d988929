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

/**
 * Slows password guessing: failed logins are counted per account and per IP in fixed windows (shared
 * across instances through Redis when REDIS_URL is set); past either limit every attempt, right or
 * wrong, is answered 429 until the window ends.
 */
@Injectable()
export class LoginThrottle {
  constructor(
    @Inject(CounterStore) private readonly counters: CounterStore,
    private readonly clock: Clock,
  ) {}

  async admit(email: string, ip: string | null): Promise<void> {
    const now = this.clock.nowMs();
    for (const [key, limit] of this.keys(email, ip, now)) {
      if ((await this.counters.get(key.name)) >= limit.failures) {
        throw ApiError.rateLimited((key.windowEnd - now) / 1000, 'Too many failed logins; try again later');
      }
    }
  }

  async failed(email: string, ip: string | null): Promise<void> {
    for (const [key] of this.keys(email, ip, this.clock.nowMs())) await this.counters.increment(key.name, key.windowEnd);
  }

  private keys(email: string, ip: string | null, now: number): Array<[{ name: string; windowEnd: number }, Limit]> {
    const window = (prefix: string, limit: Limit): [{ name: string; windowEnd: number }, Limit] => {
      const start = now - (now % limit.windowMs);
      return [{ name: `${prefix}:${start}`, windowEnd: start + limit.windowMs }, limit];
    };
    const keys = [window(`login-account:${email}`, LOGIN_LIMITS.perAccount)];
    if (ip) keys.push(window(`login-ip:${ip}`, LOGIN_LIMITS.perIp));
    return keys;
  }
}
