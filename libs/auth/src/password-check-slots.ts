import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { AppConfig } from '@mintline/common/config';
import { ApiError } from '@mintline/common/errors/api-error';
import { MetricsService } from '@mintline/common/metrics/metrics.service';

/**
 * Bounds the logins being checked at once on this instance (AppConfig.loginConcurrency). Each check is
 * an argon2id verification, 64 MiB and tens of milliseconds of CPU; queueing a burst behind them made a
 * legitimate login wait half a minute, so past the bound a login is refused at once with 429 and
 * Retry-After, and the client tries again.
 */
@Injectable()
export class PasswordCheckSlots {
  private readonly size: number;
  private inFlight = 0;
  private peak = 0;
  private readonly inFlightGauge: Gauge;
  private readonly peakGauge: Gauge;
  private readonly busy: Counter;

  constructor(config: AppConfig, metrics: MetricsService) {
    this.size = config.loginConcurrency;
    this.inFlightGauge = new Gauge({
      name: 'mintline_login_checks_in_flight',
      help: 'Logins being checked (password verification) on this instance now',
      registers: [metrics.registry],
    });
    this.peakGauge = new Gauge({
      name: 'mintline_login_checks_in_flight_peak',
      help: 'The most logins checked at once on this instance since it started (bounded by LOGIN_CONCURRENCY)',
      registers: [metrics.registry],
    });
    this.busy = new Counter({
      name: 'mintline_login_busy_refusals_total',
      help: 'Logins refused with 429 because LOGIN_CONCURRENCY checks were already in flight',
      registers: [metrics.registry],
    });
  }

  /** Takes a slot or throws 429 RATE_LIMITED at once; the returned function gives the slot back (once). */
  take(): () => void {
    if (this.inFlight >= this.size) {
      this.busy.inc();
      throw ApiError.rateLimited(1, 'Too many logins in progress on this instance; try again shortly');
    }
    this.inFlight += 1;
    this.peak = Math.max(this.peak, this.inFlight);
    this.inFlightGauge.set(this.inFlight);
    this.peakGauge.set(this.peak);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.inFlight -= 1;
      this.inFlightGauge.set(this.inFlight);
    };
  }
}
