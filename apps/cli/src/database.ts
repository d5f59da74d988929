import type { Logger } from 'pino';
import { AppConfig } from '@mintline/common/config';
import { EmbeddedDatabase, startEmbeddedPostgres } from '@mintline/common/database/embedded-postgres';
import { runMigrations } from '@mintline/common/database/migrate';
import { MIGRATIONS } from '@mintline/migrations/migrations';

/** The CLI uses the same database as the server: DATABASE_URL, else the embedded one under .data/. */
export async function openDatabase(config: AppConfig, logger: Logger): Promise<{ url: string; embedded?: EmbeddedDatabase }> {
  if (config.databaseUrl) return { url: config.databaseUrl };
  const embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, logger);
  return { url: embedded.url, embedded };
}

export async function migrate(url: string): Promise<string[]> {
  return runMigrations(url, MIGRATIONS);
}
