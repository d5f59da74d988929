import { types } from 'pg';
import type { ClientBase } from 'pg';
// pg's own mapping of JavaScript values to parameters (Dates, Buffers, arrays, objects as JSON).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { prepareValue } = require('pg/lib/utils') as { prepareValue: (value: unknown) => unknown };

/**
 * SQL text with an optional name. A named statement is parsed (planned) once per connection and then
 * only bound and executed: for the statements every request runs.
 */
export interface Sql {
  readonly text: string;
  readonly name?: string;
  /**
   * Run with the plan made once for any values (`plan_cache_mode = force_generic_plan`, set for its own
   * transaction only): for a prepared statement whose best plan does not depend on its values and whose
   * planning costs more than its execution. PostgreSQL otherwise plans the first five executions for
   * their values and keeps doing so whenever a generic plan is estimated dearer, which for a statement
   * over a partitioned table means planning every partition on every execution.
   */
  readonly genericPlan?: boolean;
}

/** A statement of the hot path, prepared once per connection under `name`. */
export function prepared(name: string, text: string, options: { genericPlan?: boolean } = {}): Sql {
  return options.genericPlan ? { name, text, genericPlan: true } : { name, text };
}

export interface Statement {
  sql: Sql;
  values: readonly unknown[];
}

export interface StatementResult<T> {
  rows: T[];
  rowCount: number;
}

/** The parts of pg's wire connection a batch writes to (pg's Submittable protocol, as pg-cursor uses it). */
interface Wire {
  parse(query: { name?: string; text: string; types?: number[] }): void;
  bind(config: { portal?: string; statement?: string; values?: readonly unknown[]; valueMapper?: (value: unknown) => unknown }): void;
  describe(config: { type: 'P' | 'S'; name?: string }): void;
  execute(config: { portal?: string; rows?: number }): void;
  sync(): void;
  stream: { cork?(): void; uncork?(): void };
}

interface Field {
  name: string;
  dataTypeID: number;
  format?: string;
}

/** Names of the statements already prepared on each connection. */
const preparedOn = new WeakMap<Wire, Set<string>>();

/**
 * Several statements sent to PostgreSQL as one pipeline of the extended protocol — Parse/Bind/Execute
 * for each, then a single Sync — in one network write, answered in one round trip. Up to the Sync they
 * are one transaction (PostgreSQL commits an implicit transaction at Sync and rolls it back whole if any
 * statement fails); a leading BEGIN turns it into an explicit one that stays open. Every value travels
 * as a bound parameter, never in the SQL text.
 *
 * It is a pg "submittable" (the documented extension point pg-cursor and pg-query-stream use): pg hands
 * it the connection when the client is free and routes the server's answers to its handle* methods.
 */
export class StatementBatch {
  callback?: (error: Error | null, results?: Array<StatementResult<unknown>>) => void;
  /** True if this batch prepared a statement and then failed: whether the server kept it is unknown. */
  preparedThenFailed = false;
  private readonly results: Array<StatementResult<unknown>>;
  private index = 0;
  private parsers: Array<(value: string) => unknown> = [];
  private fields: Field[] = [];
  private error?: Error;
  private prepares = false;

  constructor(private readonly statements: readonly Statement[]) {
    this.results = statements.map(() => ({ rows: [], rowCount: 0 }));
  }

  submit(connection: Wire): void {
    let names = preparedOn.get(connection);
    if (!names) preparedOn.set(connection, (names = new Set()));
    connection.stream.cork?.();
    try {
      for (const { sql, values } of this.statements) {
        if (!sql.name) {
          connection.parse({ text: sql.text });
        } else if (!names.has(sql.name)) {
          connection.parse({ name: sql.name, text: sql.text });
          names.add(sql.name);
          this.prepares = true;
        }
        connection.bind({ statement: sql.name ?? '', values, valueMapper: prepareValue });
        connection.describe({ type: 'P' });
        connection.execute({});
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
  }

  handleRowDescription(message: { fields: Field[] }): void {
    this.fields = message.fields;
    this.parsers = message.fields.map((field) => types.getTypeParser(field.dataTypeID, (field.format ?? 'text') as 'text'));
  }

  handleDataRow(message: { fields: Array<string | null> }): void {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < message.fields.length; i++) {
      const raw = message.fields[i];
      row[this.fields[i].name] = raw === null ? null : this.parsers[i](raw);
    }
    this.results[this.index].rows.push(row);
  }

  handleCommandComplete(message: { text: string }): void {
    const count = /(\d+)$/.exec(message.text);
    this.results[this.index].rowCount = count ? Number(count[1]) : 0;
    this.next();
  }

  handleEmptyQuery(): void {
    this.next();
  }

  handleError(error: Error): void {
    if (this.prepares) this.preparedThenFailed = true;
    if (this.error) return;
    this.error = error;
    this.callback?.(error);
  }

  handleReadyForQuery(): void {
    if (!this.error) this.callback?.(null, this.results);
  }

  handlePortalSuspended(): void {
    // Every portal is executed to completion (no row limit), so none is ever suspended.
  }

  handleCopyInResponse(): void {
    // No statement of a batch is a COPY.
  }

  handleCopyData(): void {
    // No statement of a batch is a COPY.
  }

  private next(): void {
    this.index += 1;
    this.fields = [];
    this.parsers = [];
  }
}

/** Runs `statements` as one batch on `client` (see StatementBatch); the results are in statement order. */
export function runBatch(client: ClientBase, statements: readonly Statement[]): Promise<{ results: Array<StatementResult<unknown>>; batch: StatementBatch }> {
  const batch = new StatementBatch(statements);
  return new Promise((resolve, reject) => {
    batch.callback = (error, results) => (error ? reject(Object.assign(error, { batch })) : resolve({ results: results!, batch }));
    client.query(batch as unknown as Parameters<ClientBase['query']>[0]);
  });
}

/** An error PostgreSQL answered with (it has a SQLSTATE), as opposed to no answer (a timeout, a lost connection). */
export function isServerError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}
