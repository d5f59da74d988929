import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { runMigrations } from '../../libs/common/src/database/migrate';
import { MIGRATIONS } from '../../migrations/migrations';

/** A freshly created and migrated database of its own for one test file; `drop()` removes it. */
export interface TestDatabase {
  url: string;
  name: string;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export function serverUrl(): string {
  const url = process.env.MINTLINE_TEST_SERVER_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error('No PostgreSQL for tests: set DATABASE_URL or run through jest (global setup starts one)');
  return url;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `mintline_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: withDatabase(serverUrl(), 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(serverUrl(), name);
  await runMigrations(url, MIGRATIONS);
  const client = new Client({ connectionString: url });
  await client.connect();
  return {
    url,
    name,
    async query<T>(sql: string, params: unknown[] = []) {
      return (await client.query(sql, params)).rows as T[];
    },
    async drop() {
      await client.end();
      const dropper = new Client({ connectionString: withDatabase(serverUrl(), 'postgres') });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
