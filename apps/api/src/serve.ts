import { AppConfig } from '@mintline/common/config';
import { startEmbeddedPostgres } from '@mintline/common/database/embedded-postgres';
import { runMigrations } from '@mintline/common/database/migrate';
import { createLogger } from '@mintline/common/logging/logger';
import { MIGRATIONS } from '@mintline/migrations/migrations';
import { createApp } from './create-app';
import { shutDownGracefully } from './shutdown';

const SHUTDOWN_GRACE_MS = 20_000;

/** Migrates, starts the service and serves until SIGTERM/SIGINT; main.ts loads this module once the process is set up. */
export async function serve(config: AppConfig, heapGrowingPercent: number | undefined): Promise<void> {
  const logger = createLogger(config.logLevel);
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, logger);
  const databaseUrl = config.databaseUrl ?? embedded!.url;

  const applied = await runMigrations(databaseUrl, MIGRATIONS);
  if (applied.length > 0) logger.info({ migrations: applied }, 'applied migrations');

  const app = await createApp({ config, logger, databaseUrl });
  await app.listen({ port: config.port, host: process.env.HOST || '0.0.0.0' });
  logger.info({ port: config.port, embeddedDatabase: Boolean(embedded), heapGrowingPercent: heapGrowingPercent ?? 'v8' }, 'Mintline is serving');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    await shutDownGracefully(app);
    await embedded?.stop();
    logger.info('stopped');
    logger.flush(() => process.exit(0));
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
