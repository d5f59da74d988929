import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { AppConfig } from '@mintline/common/config';
import { PinoNestLogger } from '@mintline/common/logging/logger';
import { AppModule } from '../../api/src/app.module';

/** The service's modules without the HTTP server, for one CLI command. */
export async function withContext<T>(config: AppConfig, logger: Logger, databaseUrl: string, work: (context: INestApplicationContext) => Promise<T>): Promise<T> {
  const context = await NestFactory.createApplicationContext(AppModule.forRoot({ config, logger, databaseUrl }), { logger: new PinoNestLogger(logger) });
  try {
    return await work(context);
  } finally {
    await context.close();
  }
}
