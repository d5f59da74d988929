import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { Tx } from '../database/db';
import { ApiError } from '../errors/api-error';
import { CACHE_CHANNEL, CacheEpochsRepository } from './cache-epochs.repository';

export type CacheTopic = 'user' | 'api-key' | 'org' | 'credentials' | 'caller-id' | 'policy';

const RECONNECT_MS = 1000;

type Listener = (key: string) => void;

/**
 * A write that was to confirm caches fresh found that an epoch had moved since the request began: it
 * wrote nothing, the moved caches are emptied, and the request is to be checked again from fresh data.
 * Should it ever reach a client (it should not: see MintPipeline) it is a 503.
 */
export class CachesMovedError extends ApiError {
  constructor() {
    super(503, 'UNAVAILABLE', 'A change was committed while the request ran, try again');
  }
}

/**
 * Keeps every instance's caches as fresh as the database, in two ways:
 *
 * - Epochs (correctness): every change bumps its topic's counter in cache_epochs inside its own
 *   transaction, and `sync()` — called at the start of each authenticated request, before any cache is
 *   read — reads the counters and empties the caches of any topic that moved. A change committed on one
 *   instance is therefore seen by the very next request on any instance (a revoked key is refused at
 *   once). Requests that arrive together share one small query. A mint skips that query: the statement
 *   that commits its audit entry compares the counters with `known()` and writes nothing if they moved
 *   (see MintAuditWriter), and the mint is then checked again from fresh caches (`version` tells which
 *   requests began before the move).
 * - LISTEN/NOTIFY (precision): the change's key is also published with pg_notify (delivered at commit),
 *   so other instances drop just that entry promptly; caches serve only while that connection is up.
 */
@Injectable()
export class InvalidationBus implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('InvalidationBus');
  private readonly listeners = new Map<CacheTopic, Listener[]>();
  private readonly topicResetters = new Map<CacheTopic, Array<() => void>>();
  private readonly epochs = new Map<string, string>();
  private moves = 0;
  private client?: Client;
  private connected = false;
  private stopped = false;
  private reconnectTimer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private queuedSync?: Promise<void>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  get live(): boolean {
    return this.connected;
  }

  /**
   * Counts the epoch moves this instance has applied: a request that began at one version and finds a
   * higher one may have read a cache entry that was stale by then.
   */
  get version(): number {
    return this.moves;
  }

  /** Whether the epochs have been read at least once (before that, no cache can be vouched for). */
  get synced(): boolean {
    return this.epochs.size > 0;
  }

  /** The epochs the caches are fresh against, once read at least once (undefined before). */
  known(): Record<string, string> | undefined {
    return this.synced ? Object.fromEntries(this.epochs) : undefined;
  }

  /** Applies epochs read from the database (by `sync` or a statement that reads them along): caches of moved topics are emptied. */
  apply(rows: ReadonlyArray<{ topic: string; epoch: string }>): void {
    for (const { topic, epoch } of rows) {
      const seen = this.epochs.get(topic);
      this.epochs.set(topic, epoch);
      if (seen !== undefined && seen !== epoch) {
        this.moves += 1;
        this.reset(topic as CacheTopic);
      }
    }
  }

  on(topic: CacheTopic, listener: Listener): void {
    this.listeners.set(topic, [...(this.listeners.get(topic) ?? []), listener]);
  }

  /** `reset` empties a cache of `topic`; called when its epoch moves or when the connection is lost. */
  onReset(topic: CacheTopic, reset: () => void): void {
    this.topicResetters.set(topic, [...(this.topicResetters.get(topic) ?? []), reset]);
  }

  /** Publishes a change within the transaction `tx` that makes it, and applies it locally now. */
  async publish(topic: CacheTopic, key: string, tx: Tx): Promise<void> {
    this.deliver(topic, key);
    await CacheEpochsRepository.bump(tx, topic, key);
  }

  /**
   * Brings the caches up to every change committed before this call. A query already on its way may
   * have been sent before the caller's request arrived, so callers then wait for the next one; all who
   * wait together share it.
   */
  sync(): Promise<void> {
    if (!this.syncing) {
      this.syncing = this.readEpochs().finally(() => (this.syncing = undefined));
      return this.syncing;
    }
    // If the query on its way fails, so do its waiters: the database just failed (or timed out) for
    // it, and a second query of their own would only make them wait out a second timeout.
    this.queuedSync ??= this.syncing.then(
      () => {
        this.queuedSync = undefined;
        return this.sync();
      },
      (error: unknown) => {
        this.queuedSync = undefined;
        throw error;
      },
    );
    return this.queuedSync;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.connected = false;
    await this.client?.end().catch(() => undefined);
  }

  private async readEpochs(): Promise<void> {
    this.apply(await CacheEpochsRepository.all(this.dataSource));
  }

  private reset(topic: CacheTopic): void {
    for (const reset of this.topicResetters.get(topic) ?? []) reset();
  }

  private async connect(): Promise<void> {
    const options = this.dataSource.driver.options as { url?: string };
    const client = new Client({ connectionString: options.url, connectionTimeoutMillis: 3000, application_name: 'mintline-invalidation' });
    client.on('notification', (message) => {
      const payload = message.payload ?? '';
      const split = payload.indexOf(':');
      if (split > 0) this.deliver(payload.slice(0, split) as CacheTopic, payload.slice(split + 1));
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CACHE_CHANNEL}`);
      if (this.stopped) {
        // Shut down while this connection was being opened.
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
      this.connected = true;
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot listen for cache invalidations; caches are bypassed until it can');
      await client.end().catch(() => undefined);
      this.scheduleReconnect();
    }
  }

  private lost(client: Client): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.connected = false;
    for (const topic of this.topicResetters.keys()) this.reset(topic);
    if (!this.stopped) {
      this.logger.warn('lost the cache invalidation connection; caches are bypassed until it is back');
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), RECONNECT_MS);
    this.reconnectTimer.unref();
  }

  private deliver(topic: CacheTopic, key: string): void {
    for (const listener of this.listeners.get(topic) ?? []) listener(key);
  }
}
