import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { isUuid } from '../http/uuid';
import { isServerError, prepared, runBatch, Sql, Statement, StatementResult } from './statement-batch';

/**
 * The database as the service reaches it: always through a handle that names whose rows the work may
 * see (PostgreSQL row-level security reads `mintline.tenant`, see the RowLevelSecurity migration).
 *
 * - `db.forOrg(orgId)` — a TenantDb: one org's rows. Everything an org's principal asks for.
 * - `db.system(reason)` — a SystemDb: every org's rows, for the few paths that are cross-tenant by
 *   nature (SystemReason): login by email, an API key or a call token by its hash, a user by id for
 *   the principal, the audit writer's and checkpoint writer's multi-org batches, the operator's org
 *   routes, the CLI, audit retention and master-key rotation. The reason is named at the call site so
 *   that each such path can be found by reading for `db.system(`.
 *
 * `transaction(work)` on either gives a TenantTx (which carries its org) or a SystemTx. Each table has
 * one repository, in the library that owns it (`*.repository.ts`), whose every method takes one of
 * these by type — a method on one org's rows a TenantDb or TenantTx and reads the org from it — so a
 * query on a tenant table cannot be written without saying whose rows it means. Services and
 * controllers hold no SQL (data-layer.spec.ts keeps it so). A connection with no handle's setting sees
 * no tenant row at all.
 *
 * How the setting travels: `set_config('mintline.tenant', $1, true)` (transaction-local, with the org
 * as a bound parameter) is pipelined with the statement in the extended protocol — both Parse/Bind/
 * Execute sequences and one Sync in a single network write (StatementBatch) — so it costs no round
 * trip of its own and both run in one transaction. The setting is transaction-local, so a pooled
 * connection goes back to the pool with nothing set, whatever happened. Chosen over the alternatives:
 * a multi-statement simple query needs the org written into the SQL text; a CTE calling set_config
 * gives no guarantee it runs before the main statement's row-level checks; and pg's client sends a
 * query only after the previous one is answered, so separate BEGIN/set_config calls cost a trip each.
 */
@Injectable()
export class Db {
  private readonly pool: Pool;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.pool = (dataSource.driver as PostgresDriver).master as Pool;
  }

  forOrg(orgId: string): TenantDb {
    if (!isUuid(orgId)) throw new Error('a tenant handle needs an org id');
    return new TenantDb(this.pool, orgId.toLowerCase());
  }

  /** Every org's rows; `reason` names the cross-tenant path (for readers: it is not checked). */
  system(reason: SystemReason): SystemDb {
    return new SystemDb(this.pool, reason);
  }
}

/** The paths allowed to read across tenants. */
export type SystemReason =
  'login by email' | 'credential lookup by hash' | 'principal by user id' | 'audit batch of many orgs' | 'operator' | 'cli' | 'retention' | 'key rotation';

const SET_TENANT = prepared('mintline_set_tenant', "SELECT set_config('mintline.tenant', $1, true)");
/** The same, for a statement that asks for its generic plan (Sql.genericPlan): both settings transaction-local. */
const SET_TENANT_GENERIC_PLAN = prepared(
  'mintline_set_tenant_generic_plan',
  "SELECT set_config('mintline.tenant', $1, true), set_config('plan_cache_mode', 'force_generic_plan', true)",
);
const BEGIN: Sql = { text: 'BEGIN' };

/** What a handle can run: a statement (with its tenant, in one round trip), or a transaction. */
abstract class BoundDb<T extends Tx> {
  protected constructor(
    private readonly pool: Pool,
    /** The value of `mintline.tenant`: an org id or 'system'. */
    readonly setting: string,
  ) {}

  /** The transaction object of this handle's kind (it carries the org, or the system reason). */
  protected abstract bind(client: PoolClient): T;

  /** One statement in a transaction of its own, the tenant set in the same round trip; its rows. */
  async query<R>(sql: Sql | string, values: readonly unknown[] = []): Promise<R[]> {
    return (await this.execute<R>(sql, values)).rows;
  }

  /** Like `query`, with the count of rows the statement touched. */
  async execute<R>(sql: Sql | string, values: readonly unknown[] = []): Promise<StatementResult<R>> {
    const client = listened(await this.pool.connect());
    let failure: unknown;
    try {
      const statement = statementOf(sql, values);
      const { results } = await runBatch(client, [setTenant(this.setting, statement), statement]);
      return results[1] as StatementResult<R>;
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      client.release(mustDiscard(failure) ? (failure as Error) : undefined);
    }
  }

  /**
   * Runs `work` in one transaction bound to this handle's tenant: BEGIN, the setting and the first
   * statement travel together; COMMIT when `work` resolves, ROLLBACK when it throws.
   */
  async transaction<R>(work: (tx: T) => Promise<R>): Promise<R> {
    const client = listened(await this.pool.connect());
    const tx = this.bind(client);
    let failure: unknown;
    try {
      const result = await work(tx);
      await tx.end('COMMIT');
      return result;
    } catch (error) {
      failure = error;
      // The server refused a statement: end the transaction. No answer at all (a timeout, a lost
      // connection): the connection's state is unknown and waiting on a ROLLBACK would only double
      // the wait, so it is closed instead (the pool drops it when it comes back).
      if (!mustDiscard(error)) await tx.end('ROLLBACK').catch((rollbackError: unknown) => (failure = rollbackError));
      throw error;
    } finally {
      client.release(mustDiscard(failure) ? (failure as Error) : undefined);
    }
  }
}

/** One org's rows. */
export class TenantDb extends BoundDb<TenantTx> {
  readonly kind = 'tenant';

  constructor(
    pool: Pool,
    readonly orgId: string,
  ) {
    super(pool, orgId);
  }

  protected bind(client: PoolClient): TenantTx {
    return new TenantTx(client, this.orgId);
  }
}

/** Every org's rows: only for the paths named by SystemReason. */
export class SystemDb extends BoundDb<SystemTx> {
  readonly kind = 'system';

  constructor(
    pool: Pool,
    readonly reason: SystemReason,
  ) {
    super(pool, 'system');
  }

  protected bind(client: PoolClient): SystemTx {
    return new SystemTx(client, this.reason);
  }
}

/** Either handle: for tables and statements that work the same for one org or for all. */
export type AnyDb = TenantDb | SystemDb;

/**
 * A transaction in progress. Its first statement opens it: BEGIN, the setting and the statement in one
 * round trip. Repositories take its bound kinds, TenantTx or SystemTx, never a bare Tx.
 */
export class Tx {
  private begun = false;

  constructor(
    private readonly client: PoolClient,
    private readonly setting: string,
  ) {}

  async query<T>(sql: Sql | string, values: readonly unknown[] = []): Promise<T[]> {
    return (await this.execute<T>(sql, values)).rows;
  }

  async execute<T>(sql: Sql | string, values: readonly unknown[] = []): Promise<StatementResult<T>> {
    return (await this.executeAll([statementOf(sql, values)]))[0] as StatementResult<T>;
  }

  /**
   * Several statements in one round trip; the first statement of the transaction opens it (BEGIN and the
   * settings the first statement asks for travel with them). Their results in order.
   */
  protected async executeAll(statements: readonly Statement[]): Promise<Array<StatementResult<unknown>>> {
    if (this.begun) return (await runBatch(this.client, statements)).results;
    this.begun = true;
    const { results } = await runBatch(this.client, [{ sql: BEGIN, values: [] }, setTenant(this.setting, statements[0]), ...statements]);
    return results.slice(2);
  }

  /** Ends the transaction, if it was opened. */
  async end(command: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    const begun = this.begun;
    this.begun = false;
    // Through a batch like every statement, so that a connection lost here is told from a refusal (mustDiscard).
    if (begun) await runBatch(this.client, [{ sql: { text: command }, values: [] }]);
  }
}

/** A transaction bound to one org: repositories read the org from it, never from an argument. */
export class TenantTx extends Tx {
  readonly kind = 'tenant';

  constructor(
    client: PoolClient,
    readonly orgId: string,
  ) {
    super(client, orgId);
  }
}

/** A transaction over every org's rows: only for the paths named by SystemReason. */
export class SystemTx extends Tx {
  readonly kind = 'system';

  constructor(
    client: PoolClient,
    readonly reason: SystemReason,
  ) {
    super(client, 'system');
  }

  /**
   * Statements each bound to one org, in this transaction and in one round trip: the tenant setting is
   * switched to each statement's org before it (row-level security then confines it to that org's rows,
   * as on a TenantDb) and back to 'system' after the last. For a multi-org batch that must change rows
   * of several orgs in its own transaction (the audit writer carrying call-token redemptions) without
   * reaching across tenants for them. Answers each statement's result.
   */
  async asOrgs<R>(statements: ReadonlyArray<{ orgId: string; sql: Sql; values: readonly unknown[] }>): Promise<Array<StatementResult<R>>> {
    const pipeline: Statement[] = [];
    for (const { orgId, sql, values } of statements) {
      if (!isUuid(orgId)) throw new Error('a statement bound to an org needs an org id');
      pipeline.push(setTenant(orgId.toLowerCase()), { sql, values });
    }
    pipeline.push(setTenant('system'));
    const results = await this.executeAll(pipeline);
    return statements.map((_, i) => results[2 * i + 1] as StatementResult<R>);
  }
}

/** Either transaction: for statements that work the same for one org or for all. */
export type AnyTx = TenantTx | SystemTx;

const listening = new WeakSet<PoolClient>();

/**
 * A connection lost while checked out is reported to its query (which fails) and as an 'error' event,
 * which with no listener would crash the process; the pool listens only while a connection is idle.
 */
function listened(client: PoolClient): PoolClient {
  if (!listening.has(client)) {
    listening.add(client);
    client.on('error', () => undefined);
  }
  return client;
}

/** The settings `statement` runs under: the tenant, and the plan mode it asks for (a later statement of a transaction keeps them). */
function setTenant(setting: string, statement?: Statement): Statement {
  return { sql: statement?.sql.genericPlan ? SET_TENANT_GENERIC_PLAN : SET_TENANT, values: [setting] };
}

function statementOf(sql: Sql | string, values: readonly unknown[]): Statement {
  return { sql: typeof sql === 'string' ? { text: sql } : sql, values };
}

/**
 * A connection to drop rather than reuse: a database call got no answer (a timeout, a lost connection:
 * its state is unknown; a 503 thrown inside a transaction says as much), or a batch that prepared a statement failed (whether the server kept the
 * statement is unknown). An error the application threw (a 404 inside a transaction) is neither.
 */
function mustDiscard(error: unknown): boolean {
  if (!error) return false;
  const failure = error as { batch?: { preparedThenFailed: boolean }; driverError?: unknown; status?: unknown };
  // A 503 inside a transaction is the database (or the audit log, which is in it) failing to answer.
  if (failure.status === 503) return true;
  if (failure.batch) return failure.batch.preparedThenFailed || !isServerError(error);
  if (failure.driverError) return !isServerError(failure.driverError);
  return false;
}
