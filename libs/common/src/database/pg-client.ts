import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Pool, PoolClient } from 'pg';
import QueryStream from 'pg-query-stream';
import { DataSource } from 'typeorm';
import type { TenantDb } from './db';

/** A long read may take this long on the server (exports and chain walks of big orgs). */
const LONG_READ_STATEMENT_TIMEOUT_MS = 30 * 60_000;

/**
 * A small pool of its own for long, streamed reads (audit exports, chain verification). The service's
 * main pool gives up on any query after a few seconds so that requests never hang; a stream that runs
 * for minutes would be cut off there, so it reads here instead, with a long server-side timeout.
 */
@Injectable()
export class LongReads implements OnApplicationShutdown {
  private readonly logger = new Logger('LongReads');
  private pool?: Pool;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * A connection of its own in a transaction bound to the handle's org (row-level security): `begin`
   * (constant SQL: BEGIN with its mode, and any lock) then the org's setting, as a bound parameter.
   * `finish` ends that transaction (and with it the tenant setting) and gives the connection back; one
   * that cannot end it is closed instead.
   */
  async borrow(tenant: TenantDb, begin = 'BEGIN READ ONLY'): Promise<{ read: LongRead; finish: () => Promise<void> }> {
    const client = await this.connections().connect();
    const finish = async () => {
      const ended = await client.query('ROLLBACK').then(
        () => true,
        () => false,
      );
      client.release(!ended);
    };
    try {
      await client.query(begin);
      await client.query("SELECT set_config('mintline.tenant', $1, true)", [tenant.orgId]);
    } catch (error) {
      await finish();
      throw error;
    }
    return { read: new LongRead(client, tenant.orgId), finish };
  }

  /**
   * Rows of a query one by one through a server-side cursor, in a read-only transaction bound to the
   * handle's org (row-level security): memory stays flat however many rows match. The connection is
   * finished (see `borrow`) when iteration ends, fails or is abandoned.
   */
  async *stream<T>(tenant: TenantDb, sql: string, params: unknown[], batchSize = 500): AsyncGenerator<T> {
    const { read, finish } = await this.borrow(tenant);
    try {
      yield* read.stream<T>(sql, params, batchSize);
    } finally {
      await finish();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool?.end();
  }

  private connections(): Pool {
    if (this.pool) return this.pool;
    this.pool = new Pool({
      connectionString: (this.dataSource.driver.options as { url?: string }).url,
      max: 4,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 10_000,
      statement_timeout: LONG_READ_STATEMENT_TIMEOUT_MS,
      application_name: 'mintline-long-reads',
    });
    // An idle connection the server closes (a restart, a terminated backend) is reported here; without
    // a listener that report would crash the process. The pool drops the connection and opens another.
    this.pool.on('error', (error) => this.logger.warn({ err: error }, 'an idle long-read connection was closed by the database'));
    return this.pool;
  }
}

/** A borrowed long-read transaction, bound to one org (see LongReads.borrow); repositories read the org from it. */
export class LongRead {
  constructor(
    private readonly client: PoolClient,
    readonly orgId: string,
  ) {}

  async query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return (await this.client.query(sql, params)).rows as T[];
  }

  /** Rows one by one through a server-side cursor. */
  async *stream<T>(sql: string, params: unknown[], batchSize = 500): AsyncGenerator<T> {
    const stream = this.client.query(new QueryStream(sql, params, { batchSize }));
    try {
      for await (const row of stream) yield row as T;
    } finally {
      stream.destroy();
    }
  }
}
