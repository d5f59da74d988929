import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Runs `work` on a connection to the server's `postgres` database (for CREATE/DROP DATABASE). */
async function onServer<T>(work: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: withDatabase(serverUrl(), 'postgres') });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

const ROOT = join(__dirname, '..', '..');

/**
 * The name of the template database for the current migrations: it changes whenever a migration file or
 * the migration runner changes, so a stale template is never used.
 */
export function templateName(): string {
  const hash = createHash('sha256');
  const dir = join(ROOT, 'migrations');
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(join(dir, file)));
  hash.update(readFileSync(join(ROOT, 'libs/common/src/database/migrate.ts')));
  return `mintline_template_${hash.digest('hex').slice(0, 16)}`;
}

/**
 * Makes sure the migrated template database exists on the server (jest's global setup calls this once per
 * run). It is built under a scratch name and renamed when complete, so parallel runs never copy a half-migrated
 * template, and no connection to it stays open (CREATE DATABASE ... TEMPLATE refuses while one is).
 * Returns its name.
 */
export async function ensureTemplateDatabase(): Promise<string> {
  const template = templateName();
  const exists = async () => onServer(async (admin) => (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template])).rowCount === 1);
  if (await exists()) return template;
  const scratch = `${template}_build_${randomBytes(4).toString('hex')}`;
  await onServer((admin) => admin.query(`CREATE DATABASE ${scratch}`));
  try {
    await runMigrations(withDatabase(serverUrl(), scratch), MIGRATIONS);
    await onServer((admin) => admin.query(`ALTER DATABASE ${scratch} RENAME TO ${template}`));
  } catch (error) {
    // Another run finished the same template first: use theirs.
    await onServer((admin) => admin.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`));
    if (!(await exists())) throw error;
  }
  return template;
}

/** CREATE DATABASE from the template, retried briefly if another run is still connected to it (55006). */
async function copyTemplate(name: string, template: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await onServer((admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/**
 * A database of its own for one test file, with the real migrations: a copy of the template made in the global
 * setup (MINTLINE_TEST_TEMPLATE), or, outside jest's global setup, migrated here; `empty` skips the migrations.
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `mintline_test_${randomBytes(6).toString('hex')}`;
  const url = withDatabase(serverUrl(), name);
  const template = process.env.MINTLINE_TEST_TEMPLATE;
  if (options.empty) {
    // Not migrated at all, for tests of the migrations themselves.
    await onServer((admin) => admin.query(`CREATE DATABASE ${name}`));
  } else if (template) {
    await copyTemplate(name, template);
  } else {
    await onServer((admin) => admin.query(`CREATE DATABASE ${name}`));
    await runMigrations(url, MIGRATIONS);
  }
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
      await onServer((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
