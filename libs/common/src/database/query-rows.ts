import type { DataSource } from 'typeorm';

/**
 * Runs one statement and returns its rows. TypeORM's `dataSource.query` answers UPDATE/DELETE ...
 * RETURNING with `[rows, count]` instead of rows; this always gives the rows.
 */
export async function queryRows<T>(dataSource: DataSource, sql: string, params: unknown[] = []): Promise<T[]> {
  const runner = dataSource.createQueryRunner();
  try {
    const result = await runner.query(sql, params, true);
    return (result.records ?? []) as T[];
  } finally {
    await runner.release();
  }
}
