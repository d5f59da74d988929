import { DynamicModule, Global, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { InvalidationBus } from './cache/invalidation-bus';
import { Clock } from './clock';
import { AppConfig } from './config';
import { CounterStore, MemoryCounterStore } from './counters/counter-store';
import { RedisCounterStore } from './counters/redis-counter-store';
import { Db } from './database/db';
import { LongReads } from './database/pg-client';
import { defaultOutboundLookup, OUTBOUND_DNS_LOOKUP, OutboundLookup } from './dns-lookup';
import { MetricsService } from './metrics/metrics.service';

export interface CoreOptions {
  config: AppConfig;
  logger: Logger;
  clock?: Clock;
  /** How outbound provider connections resolve names; `dns.lookup` by default. */
  dnsLookup?: OutboundLookup;
}

/** Process-wide services every domain module may inject: config, clock, counters, metrics, cache bus, long reads, the database handles. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(options: CoreOptions): DynamicModule {
    const clock = options.clock ?? new Clock();
    return {
      module: CoreModule,
      providers: [
        { provide: AppConfig, useValue: options.config },
        { provide: Clock, useValue: clock },
        { provide: OUTBOUND_DNS_LOOKUP, useValue: options.dnsLookup ?? defaultOutboundLookup },
        {
          provide: CounterStore,
          useFactory: () => (options.config.redisUrl ? new RedisCounterStore(options.config.redisUrl) : new MemoryCounterStore(() => clock.nowMs())),
        },
        MetricsService,
        InvalidationBus,
        LongReads,
        Db,
      ],
      exports: [AppConfig, Clock, OUTBOUND_DNS_LOOKUP, CounterStore, MetricsService, InvalidationBus, LongReads, Db],
    };
  }
}
