import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Everything the service reads from its environment, read once at start. `AppConfig.fromEnv` is the
 * only place that touches process.env; the rest of the code receives this object by injection.
 */
export class AppConfig {
  readonly port: number;
  readonly production: boolean;
  /** Absent: an embedded PostgreSQL kept under `dataDir`. */
  readonly databaseUrl?: string;
  /** The service's own connection (a role without ownership or BYPASSRLS); absent: derived, see service-role.ts. */
  readonly databaseAppUrl?: string;
  readonly redisUrl?: string;
  readonly operatorToken?: string;
  /** `id:base64key,...`, first is primary. */
  readonly masterKeys: string;
  readonly jwtSecret: string;
  /** `keyId:base64 PKCS#8 DER Ed25519 private key,...`, first signs audit checkpoints, the others still verify. */
  readonly auditSigningKeys: string;
  readonly allowInsecureProviderUrls: boolean;
  readonly sinchAuthUrl: string;
  readonly sinchEstUrl: string;
  readonly logLevel: string;
  readonly dataDir: string;
  readonly embeddedPgPort: number;
  /** A client has this long to send a request's line and headers, else 408 REQUEST_TIMEOUT and the connection is closed. */
  readonly headersTimeoutMs: number;
  /** How often Node looks for such requests: the 408 comes at most this much after the timeout. */
  readonly connectionsCheckIntervalMs: number;
  /**
   * A client has this long to send a whole request, body included (at least headersTimeoutMs), else 408
   * REQUEST_TIMEOUT: a body that trickles in or never finishes must not hold a connection open forever.
   */
  readonly requestTimeoutMs: number;
  /**
   * Which proxies in front may name the client in X-Forwarded-For: none (`false`), the nearest N hops,
   * or the listed addresses/CIDRs. Passed to Fastify's `trustProxy`; the audit `ip` and the per-address
   * login limits use the address it derives.
   */
  readonly trustProxy: TrustProxy;
  /** Password checks (argon2id, 64 MiB each) in flight at once per instance; past it a login is 429 at once. */
  readonly loginConcurrency: number;
  /**
   * How far V8 lets the old generation grow past what survived its last full collection before it runs
   * the next one, in percent (HEAP_GROWING_PERCENT; 0: V8's own heuristic). See runtime/heap-growth.ts.
   */
  readonly heapGrowingPercent: number;
  /**
   * Password hashes (argon2id: 64 MiB and four lanes each) computed at once on this instance; the rest
   * wait their turn (PASSWORD_HASH_CONCURRENCY). See tenancy/users/passwords.ts.
   */
  readonly passwordHashConcurrency: number;

  constructor(values: AppConfigValues) {
    Object.assign(this, values);
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
    const production = env.NODE_ENV === 'production';
    const dataDir = resolve(env.MINTLINE_DATA_DIR || '.data');
    if (production) {
      const missing = ['DATABASE_URL', 'MASTER_KEYS', 'JWT_SECRET', 'AUDIT_SIGNING_KEYS'].filter((name) => !env[name]);
      if (missing.length > 0) {
        throw new Error(`NODE_ENV=production requires ${missing.join(', ')}`);
      }
    }
    return new AppConfig({
      port: parsePort(env.PORT, 3000, 'PORT'),
      production,
      databaseUrl: env.DATABASE_URL || undefined,
      databaseAppUrl: env.DATABASE_APP_URL || undefined,
      redisUrl: env.REDIS_URL || undefined,
      operatorToken: env.OPERATOR_TOKEN || undefined,
      masterKeys: env.MASTER_KEYS || generatedSecret(dataDir, 'master-keys', () => `k1:${randomBytes(32).toString('base64')}`),
      jwtSecret: env.JWT_SECRET || generatedSecret(dataDir, 'jwt-secret', () => randomBytes(48).toString('base64url')),
      auditSigningKeys: env.AUDIT_SIGNING_KEYS || generatedSecret(dataDir, 'audit-signing-keys', generatedAuditSigningKey),
      allowInsecureProviderUrls: env.ALLOW_INSECURE_PROVIDER_URLS === 'true',
      sinchAuthUrl: env.SINCH_AUTH_URL || 'https://auth.sinch.com/oauth2/token',
      sinchEstUrl: env.SINCH_EST_URL || 'https://elastic-trunking.api.sinch.com',
      logLevel: env.LOG_LEVEL || 'info',
      dataDir,
      embeddedPgPort: parsePort(env.EMBEDDED_PG_PORT, 54329, 'EMBEDDED_PG_PORT'),
      headersTimeoutMs: 10_000,
      connectionsCheckIntervalMs: 1_000,
      requestTimeoutMs: 30_000,
      trustProxy: parseTrustProxy(env.TRUST_PROXY),
      loginConcurrency: parsePositiveInteger(env.LOGIN_CONCURRENCY, 4 * availableParallelism(), 'LOGIN_CONCURRENCY'),
      heapGrowingPercent: parseWholeNumber(env.HEAP_GROWING_PERCENT, DEFAULT_HEAP_GROWING_PERCENT, 0, 1000, 'HEAP_GROWING_PERCENT'),
      passwordHashConcurrency: parsePositiveInteger(env.PASSWORD_HASH_CONCURRENCY, defaultPasswordHashConcurrency(), 'PASSWORD_HASH_CONCURRENCY'),
    });
  }

  /** A copy with some values replaced: tests use it to point at their own database or providers. */
  with(overrides: Partial<AppConfig>): AppConfig {
    return new AppConfig({ ...this, ...overrides });
  }
}

export type AppConfigValues = {
  [K in keyof AppConfig as AppConfig[K] extends (...args: never[]) => unknown ? never : K]: AppConfig[K];
};

/** `false`: X-Forwarded-For is ignored; a number: that many hops trusted; a list: those proxies trusted. */
export type TrustProxy = false | number | string[];

/**
 * `false`/unset, `true` (read as 1 hop: `true` in Fastify would trust every hop and let the client pick
 * its own address), a number of hops, or a comma-separated list of proxy addresses/CIDRs.
 */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const text = (value ?? '').trim();
  if (text === '' || text === 'false' || text === '0') return false;
  if (text === 'true') return 1;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > 64) throw new Error(`TRUST_PROXY must be at most 64 hops, got "${text}"`);
    return hops;
  }
  const entries = text.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (!isAddressOrCidr(entry)) {
      throw new Error(`TRUST_PROXY must be false, true, a number of trusted hops or a comma-separated list of proxy addresses/CIDRs; "${entry}" is none of these`);
    }
  }
  return entries;
}

function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * The old generation may grow by 60% past its live size between full collections. V8's own factor
 * goes up to four times on a host with much memory (its limits follow the host's memory, not the
 * container's share): the service's live heap is a steady ~45-60 MB, but what requests in flight
 * during a young collection leave behind is promoted and piles up until the next full one, so a bench
 * run (mint, call tokens, audit pages over a million entries) took the process to 280-300 MB. Measured
 * over that run, the heap's peak and the full collections, by percent: V8's own 300 MB and 7; 100:
 * 226 MB and 10; 60: 175 MB and 17; 30: 179 MB and 25. Each full collection ends in a pause of about
 * 10 ms that the requests in flight wait out (the mint's p99), so no lower than it takes.
 */
export const DEFAULT_HEAP_GROWING_PERCENT = 60;

/**
 * One argon2id hash runs its four lanes on four threads of its own (started from one thread of libuv's
 * pool), so on up to four cores a second hash at once finishes nothing sooner, holds another 64 MiB,
 * and takes a pool thread from DNS lookups and file reads. One per four cores, at least one.
 */
export function defaultPasswordHashConcurrency(): number {
  return Math.max(1, Math.floor(availableParallelism() / 4));
}

function parseWholeNumber(value: string | undefined, fallback: number, min: number, max: number, name: string): number {
  if (!value) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return number;
}

function parsePositiveInteger(value: string | undefined, fallback: number, name: string): number {
  if (!value) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${name} must be a whole number of at least 1, got "${value}"`);
  return number;
}

function parsePort(value: string | undefined, fallback: number, name: string): number {
  if (!value) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name} must be a port number, got "${value}"`);
  }
  return port;
}

/** A one-key audit signing ring: key id `a1`, an Ed25519 private key as base64 PKCS#8 DER. */
function generatedAuditSigningKey(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return `a1:${privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`;
}

/** Outside production a missing secret is generated once and kept (mode 0600) under the data folder. */
function generatedSecret(dataDir: string, name: string, generate: () => string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const value = generate();
  try {
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process started at the same moment and wrote it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw error;
  }
  chmodSync(file, 0o600);
  return value;
}
