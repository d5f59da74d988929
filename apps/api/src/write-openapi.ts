import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { AppConfig } from '@mintline/common/config';
import { createLogger } from '@mintline/common/logging/logger';
import { AppModule } from './app.module';
import { BODY_LIMIT_BYTES, setGlobalPrefix } from './create-app';
import { buildOpenApiDocument } from './openapi-document';

/**
 * The OpenAPI document the service serves at /docs/openapi.json, built without a database or a port:
 * Nest's preview mode reads the modules and controllers but instantiates nothing. The console's build
 * generates its API types from it (scripts/build-console.js); a test checks it equals the served one.
 */
export async function offlineOpenApiDocument(): Promise<OpenAPIObject> {
  const config = AppConfig.fromEnv({});
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ config, logger: createLogger('silent'), databaseUrl: 'postgres://preview.invalid/none' }),
    new FastifyAdapter(),
    { preview: true, logger: false, abortOnError: false },
  );
  try {
    setGlobalPrefix(app);
    return buildOpenApiDocument(app, BODY_LIMIT_BYTES);
  } finally {
    await app.close();
  }
}

/** `node dist/apps/api/src/write-openapi.js FILE` writes the document to FILE. */
if (require.main === module) {
  const target = process.argv[2];
  if (!target) {
    console.error('usage: write-openapi FILE');
    process.exit(2);
  }
  offlineOpenApiDocument()
    .then((document) => {
      mkdirSync(dirname(resolve(target)), { recursive: true });
      writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.stack : String(error));
      process.exit(1);
    });
}
