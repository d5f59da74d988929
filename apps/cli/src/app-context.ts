import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { Clock } from '@mintline/common/clock';
import { AppConfig } from '@mintline/common/config';
import { PinoNestLogger } from '@mintline/common/logging/logger';
import { AppModule } from '../../api/src/app.module';

/** The service's modules without the HTTP server, for one CLI command, on the owner's connection. */
export async function withContext<T>(
  config: AppConfig,
  logger: Logger,
  databaseUrl: string,
  work: (context: INestApplicationContext) => Promise<T>,
  clock?: Clock,
): Promise<T> {
  const context = await NestFactory.createApplicationContext(AppModule.forRoot({ config, logger, databaseUrl, clock }), { logger: new PinoNestLogger(logger) });
  try {
    // Maintenance commands act on every org (as the owner, like migrations), through the system handle.
    return await work(context);
  } finally {
    await context.close();
  }
}
