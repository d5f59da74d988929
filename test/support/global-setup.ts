import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startEmbeddedPostgres } from '../../libs/common/src/database/embedded-postgres';
import { ensureTemplateDatabase } from './test-database';

/**
 * End-to-end tests need a PostgreSQL server: DATABASE_URL when set (CI and this machine point it at
 * 127.0.0.1:5432), else an embedded one started here for the whole run. Each test file then creates
 * its own database on that server (see test-app.ts), copied from a template database migrated once here.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.env.MINTLINE_TEST_SERVER_URL = process.env.DATABASE_URL;
    process.env.MINTLINE_TEST_TEMPLATE = await ensureTemplateDatabase();
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'mintline-test-pg-'));
  // mkdtemp makes it 0700; as root, PostgreSQL runs as the `postgres` user, which must reach the data folder.
  chmodSync(dataDir, 0o755);
  const port = 55000 + Math.floor(Math.random() * 5000);
  const embedded = await startEmbeddedPostgres(dataDir, port, pino({ level: 'warn' }));
  process.env.MINTLINE_TEST_SERVER_URL = embedded.url;
  (globalThis as { __mintlineEmbedded?: { stop(): Promise<void> } }).__mintlineEmbedded = embedded;
  (globalThis as { __mintlineEmbeddedDir?: string }).__mintlineEmbeddedDir = dataDir;
  process.env.MINTLINE_TEST_TEMPLATE = await ensureTemplateDatabase();
}
