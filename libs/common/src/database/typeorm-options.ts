import type { TypeOrmModuleOptions } from '@nestjs/typeorm';

/**
 * The service's connection pool. Connects fail fast (3 s), the server cancels statements after 5 s and
 * the client gives up on an answer after 6 s (a network that swallows packets), so a database outage
 * turns into a prompt 503, never a hung request.
 */
export function typeOrmOptions(url: string): TypeOrmModuleOptions {
  return {
    type: 'postgres',
    url,
    autoLoadEntities: true,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    retryAttempts: 3,
    retryDelay: 1000,
    extra: {
      max: 20,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
      statement_timeout: 5_000,
      query_timeout: 6_000,
      application_name: 'mintline',
    },
  };
}
