import type { Client as PgClient, QueryResult } from 'pg';
import { DataSource, DataSourceOptions, ReplicationMode } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { DbScope, TenantScope } from './tenant-scope';

/** The statement that sets the tenant for the rest of the current transaction only (is_local = true). */
export function setTenantSql(scope: DbScope): string {
  return `SELECT set_config('mintline.tenant', '${TenantScope.settingOf(scope)}', true)`;
}

/**
 * A query runner that tells PostgreSQL, in every transaction it runs, whose rows it may see
 * (`mintline.tenant`, read by the row-level security policies): each transaction it starts sets the
 * current TenantScope first, and a statement sent outside a transaction is wrapped in one of its own
 * (BEGIN and the setting travel together, COMMIT follows). The setting is transaction-local, so a
 * pooled connection goes back to the pool with nothing set, whatever happened. With no scope nothing
 * is set and the policies show no tenant row.
 */
class ScopedQueryRunner extends PostgresQueryRunner {
  override async startTransaction(isolationLevel?: IsolationLevel): Promise<void> {
    await super.startTransaction(isolationLevel);
    const scope = TenantScope.current();
    if (scope && this.transactionDepth === 1) await super.query(setTenantSql(scope));
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override async query(query: string, parameters?: any[], useStructuredResult = false): Promise<any> {
    const scope = TenantScope.current();
    if (!scope || this.isTransactionActive) return super.query(query, parameters, useStructuredResult);
    this.isTransactionActive = true;
    try {
      await super.query(`BEGIN; ${setTenantSql(scope)}`);
      const result: unknown = await super.query(query, parameters, useStructuredResult);
      await super.query('COMMIT');
      return result;
    } catch (error) {
      // The server refused the statement: end the transaction. No answer at all (a timeout, a lost
      // connection): the connection's state is unknown, and waiting on a ROLLBACK would only double
      // the wait, so the connection is closed instead (the pool drops it when it comes back).
      if (isServerError(error)) await super.query('ROLLBACK').catch(() => discard(this.databaseConnection));
      else discard(this.databaseConnection);
      throw error;
    } finally {
      this.isTransactionActive = false;
    }
  }
}

/** Closes a connection whose state is unknown; the pool drops it when it is released. */
function discard(connection: { end(): Promise<void> } | undefined): void {
  void connection?.end().catch(() => undefined);
}

/** An error PostgreSQL answered with (it has a SQLSTATE), as opposed to no answer. */
function isServerError(error: unknown): boolean {
  const failure = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = failure.driverError?.code ?? failure.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/**
 * One statement in a transaction of its own, bound to `scope`, in a single round trip: the setting and
 * the statement travel as one simple-protocol message, which PostgreSQL runs as one transaction (and
 * rolls back whole if the statement fails). The simple protocol takes no parameters, so the statement
 * carries its values as literals (pg's escapeLiteral). For hot paths; elsewhere the query runner's
 * BEGIN/COMMIT does the same in three.
 */
export async function queryInOneTrip<T>(dataSource: DataSource, scope: DbScope, sql: string): Promise<T[]> {
  const runner = dataSource.createQueryRunner();
  try {
    const connection = (await runner.connect()) as PgClient;
    try {
      const results = (await connection.query(`${setTenantSql(scope)}; ${sql}`)) as unknown as QueryResult[];
      return results[results.length - 1].rows as T[];
    } catch (error) {
      if (!isServerError(error)) discard(connection);
      throw error;
    }
  } finally {
    await runner.release();
  }
}

/** A TypeORM data source whose query runners carry the tenant scope into PostgreSQL. */
export function scopedDataSource(options: DataSourceOptions): DataSource {
  const dataSource = new DataSource(options);
  const driver = dataSource.driver as PostgresDriver;
  driver.createQueryRunner = (mode: ReplicationMode) => new ScopedQueryRunner(driver, mode);
  return dataSource;
}
