import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../apps/api/src/create-app';
import { Clock } from '../../libs/common/src/clock';
import type { OutboundLookup } from '../../libs/common/src/dns-lookup';
import { AppConfig } from '../../libs/common/src/config';
import { createLogger } from '../../libs/common/src/logging/logger';
import type { ProviderHttpOptions } from '../../libs/providers/src/http/provider-http.client';
import { createTestDatabase, TestDatabase } from './test-database';

export interface TestApp {
  url: string;
  app: NestFastifyApplication;
  db: TestDatabase;
  config: AppConfig;
  operatorToken: string;
  /** Every log line the service wrote, as text, so tests can check that no secret reached the log. */
  logs: string[];
  close(): Promise<void>;
}

export interface TestAppOptions {
  config?: Partial<AppConfig>;
  clock?: Clock;
  /** Reuse another test app's database (several instances on one database). */
  db?: TestDatabase;
  /** How the service resolves provider host names (default dns.lookup). */
  dnsLookup?: OutboundLookup;
  /** The provider HTTP client's options, e.g. a short timeoutMs so a hanging fake fails fast. */
  providerHttp?: ProviderHttpOptions;
}

/** A MASTER_KEYS entry: this key id and 32 fresh random bytes (base64). */
export function newMasterKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/**
 * One audit signing key for every instance a test file starts (instances sharing a database must trust
 * each other's checkpoints); a test passes its own `auditSigningKeys` to rotate.
 */
export const TEST_AUDIT_SIGNING_KEYS = `test-a1:${generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`;

/** Starts the real service on 127.0.0.1 (a random port) on its own freshly migrated database. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  const operatorToken = `op_${randomBytes(24).toString('base64url')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'mintline-test-'));
  const config = AppConfig.fromEnv({ MINTLINE_DATA_DIR: dataDir, LOG_LEVEL: 'debug' }).with({
    databaseUrl: db.url,
    operatorToken,
    masterKeys: newMasterKey('test1'),
    jwtSecret: randomBytes(32).toString('base64url'),
    auditSigningKeys: TEST_AUDIT_SIGNING_KEYS,
    ...options.config,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger(config.logLevel, sink);
  const app = await createApp({
    config,
    logger,
    databaseUrl: db.url,
    clock: options.clock,
    dnsLookup: options.dnsLookup,
    providerHttp: options.providerHttp,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    db,
    config,
    operatorToken: config.operatorToken ?? operatorToken,
    logs,
    async close() {
      await app.close();
      if (!options.db) await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
