import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS } from '../migrations/migrations';
import { expectError, expectStatus, UUID_PATTERN } from './support/assertions';
import { entryPoint, EntryPoint, ProcessResult, runEntryPoint } from './support/entry-point';
import { client } from './support/http';
import { putSinchVoice, randomSinchSecret, verifySinchToken } from './support/minting';
import { newMasterKey, startTestApp, TEST_AUDIT_SIGNING_KEYS, TestApp } from './support/test-app';
import { createTestDatabase, TestDatabase } from './support/test-database';

/**
 * The operator CLI (apps/cli/src/main.ts) as a process of its own, the way `npm run cli -- <command>` runs
 * it, against a real database: exit codes and output as an operator sees them, and what the service then
 * does with the result (a bootstrapped admin logs in over HTTP, rotated credentials are read without the
 * old key).
 */

const SINCH = '/api/calls/token/sinch';
const K1 = newMasterKey('k1');
const K2 = newMasterKey('k2');
const JWT_SECRET = randomBytes(32).toString('base64url');

const entry = entryPoint('cli');
const run = 'skip' in entry ? it.skip : it;
if ('skip' in entry) console.warn(`cli: skipping the CLI process tests: ${entry.skip}`);

let dataDir: string;
const databases: TestDatabase[] = [];
const apps: TestApp[] = [];

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'mintline-cli-'));
});

afterAll(async () => {
  for (const app of apps) await app.close();
  for (const db of databases) await db.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (!('skip' in entry)) entry.cleanup();
});

async function database(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const db = await createTestDatabase(options);
  databases.push(db);
  return db;
}

/** `npm run cli -- <argv>` with this database and these master keys. */
function cli(db: TestDatabase, argv: string[], masterKeys = K1): Promise<ProcessResult> {
  return runEntryPoint(entry as EntryPoint, argv, {
    DATABASE_URL: db.url,
    MASTER_KEYS: masterKeys,
    JWT_SECRET,
    // The test service signs checkpoints with this key; the CLI verifies them with the same key ring.
    AUDIT_SIGNING_KEYS: TEST_AUDIT_SIGNING_KEYS,
    MINTLINE_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  });
}

/** The service on the CLI's database, with these master keys. */
async function serve(db: TestDatabase, masterKeys: string): Promise<TestApp> {
  const app = await startTestApp({ db, config: { masterKeys, jwtSecret: JWT_SECRET } });
  apps.push(app);
  return app;
}

async function stop(app: TestApp): Promise<void> {
  apps.splice(apps.indexOf(app), 1);
  await app.close();
}

/** Exit code and output together, so a failure shows what the process said. */
function expectExit(result: ProcessResult, code: number): void {
  expect({ code: result.code, signal: result.signal, output: `${result.stdout}\n${result.stderr}` }).toEqual({ code, signal: null, output: expect.any(String) });
}

interface Bootstrapped {
  orgId: string;
  userId: string;
  email: string;
  password: string;
}

/** Runs `bootstrap` and reads its output: the JSON of ids, then the one-time password on the last line. */
async function bootstrap(db: TestDatabase, org: string, email: string): Promise<Bootstrapped> {
  const result = await cli(db, ['bootstrap', '--org', org, '--email', email]);
  expectExit(result, 0);
  const jsonEnd = result.stdout.indexOf('}') + 1;
  const ids = JSON.parse(result.stdout.slice(0, jsonEnd));
  expect(ids).toEqual({ orgId: expect.stringMatching(UUID_PATTERN), userId: expect.stringMatching(UUID_PATTERN), email });
  const lines = result.stdout.trim().split('\n');
  expect(lines[lines.length - 2]).toBe(`One-time password for ${email} (shown only now; change it after logging in):`);
  const password = lines[lines.length - 1];
  expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
  return { ...ids, password };
}

describe('npm run cli -- migrate', () => {
  run('applies every migration to an empty database, then finds nothing to do', async () => {
    const db = await database({ empty: true });
    const first = await cli(db, ['migrate']);
    expectExit(first, 0);
    expect(first.stdout.trim()).toBe(`Applied: ${MIGRATIONS.map((migration) => migration.name).join(', ')}`);

    const again = await cli(db, ['migrate']);
    expectExit(again, 0);
    expect(again.stdout.trim()).toBe('The database is up to date.');
    const applied = await db.query<{ name: string }>('SELECT name FROM migrations ORDER BY id');
    expect(applied.map((row) => row.name)).toEqual(MIGRATIONS.map((migration) => migration.name));
    const [tables] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('orgs', 'users', 'api_keys', 'credentials', 'mint_audit')`,
    );
    expect(tables.n).toBe(5);
  });
});

describe('npm run cli -- bootstrap', () => {
  run('creates an org and its admin and prints a one-time password that logs in over HTTP', async () => {
    const db = await database();
    const email = `boot-${randomBytes(4).toString('hex')}@example.com`;
    const made = await bootstrap(db, 'Bootstrapped Co', email);

    const app = await serve(db, K1);
    const login = await client(app.url).post('/api/auth/login', { email, password: made.password });
    expectStatus(login, 200);
    const me = await client(app.url, login.body.accessToken).get('/api/auth/me');
    expectStatus(me, 200);
    expect(me.body).toMatchObject({ kind: 'user', orgId: made.orgId, userId: made.userId, role: 'admin' });
    const org = await client(app.url, app.operatorToken).get(`/api/orgs/${made.orgId}`);
    expectStatus(org, 200);
    expect(org.body.name).toBe('Bootstrapped Co');
    // Only its hash is stored.
    const [row] = await db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [made.userId]);
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.password_hash).not.toContain(made.password);
    expectError(await client(app.url).post('/api/auth/login', { email, password: `${made.password}x` }), 401, 'INVALID_CREDENTIALS');
  });

  run('without --org or --email exits 2 and creates nothing', async () => {
    const db = await database();
    const result = await cli(db, ['bootstrap', '--org', 'Half Co']);
    expectExit(result, 2);
    expect(result.stderr).toContain('bootstrap needs --org NAME and --email EMAIL');
    const [orgs] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orgs');
    expect(orgs.n).toBe(0);
  });

  run('an unknown command exits 2 with the usage', async () => {
    const result = await cli(await database(), ['frobnicate']);
    expectExit(result, 2);
    expect(result.stderr).toContain('Unknown command "frobnicate"');
    expect(result.stderr).toContain('Usage: npm run cli -- <command> [options]');
  });
});

describe('npm run cli -- keys:rotate and audit:verify', () => {
  let db: TestDatabase;
  let admin: Bootstrapped;
  const sinch = { applicationKey: randomUUID(), applicationSecret: randomSinchSecret() };

  beforeAll(async () => {
    if ('skip' in entry) return;
    db = await database();
    admin = await bootstrap(db, 'Rotating Co', `rotate-${randomBytes(4).toString('hex')}@example.com`);
    // Credentials stored under k1 by the service, and a few mints for the audit chain.
    const app = await serve(db, K1);
    const token = (await client(app.url).post('/api/auth/login', { email: admin.email, password: admin.password })).body.accessToken;
    await putSinchVoice(client(app.url, token), sinch.applicationKey, sinch.applicationSecret);
    for (let i = 0; i < 3; i++) expectStatus(await client(app.url, token).get(SINCH), 200);
    await stop(app);
  });

  /** Logs in on `app` as the bootstrapped admin and mints a Sinch token. */
  async function mintOn(app: TestApp) {
    const login = await client(app.url).post('/api/auth/login', { email: admin.email, password: admin.password });
    expectStatus(login, 200);
    return client(app.url, login.body.accessToken).get(SINCH);
  }

  run('audit:verify exits 0 on an intact chain and prints what it checked', async () => {
    const result = await cli(db, ['audit:verify', '--org', admin.orgId]);
    expectExit(result, 0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([expect.objectContaining({ orgId: admin.orgId, ok: true, checked: 3, firstBrokenId: null })]);
  });

  run('keys:rotate re-encrypts under the new primary key, so the old key can be dropped', async () => {
    // Before the rotation an instance with only the new key cannot read the credentials.
    const early = await serve(db, K2);
    const refused = await mintOn(early);
    expect({ status: refused.status, code: refused.body?.code }).toEqual({ status: expect.any(Number), code: 'CREDENTIALS_UNREADABLE' });
    await stop(early);

    const result = await cli(db, ['keys:rotate'], `${K2},${K1}`);
    expectExit(result, 0);
    expect(JSON.parse(result.stdout)).toEqual({ primaryKeyId: 'k2', rowsChecked: 1, rowsRewrapped: 1, secretsRewrapped: 1 });
    const kids = await db.query<{ kid: string }>(`SELECT secrets->'applicationSecret'->>'kid' AS kid FROM credentials`);
    expect(kids).toEqual([{ kid: 'k2' }]);

    // The old key dropped: the service still reads the credentials and mints with the same secret.
    const after = await serve(db, K2);
    const minted = await mintOn(after);
    expectStatus(minted, 200);
    verifySinchToken(minted.body.token, sinch.applicationKey, sinch.applicationSecret, admin.userId);
    await stop(after);

    // A second run finds nothing left to rewrap.
    const again = await cli(db, ['keys:rotate'], `${K2},${K1}`);
    expectExit(again, 0);
    expect(JSON.parse(again.stdout)).toEqual({ primaryKeyId: 'k2', rowsChecked: 1, rowsRewrapped: 0, secretsRewrapped: 0 });
  });

  run('audit:verify exits 1 on a broken chain and names the first broken entry', async () => {
    const entries = await db.query<{ id: string; user_agent: string | null }>('SELECT id, user_agent FROM mint_audit WHERE org_id = $1 ORDER BY seq', [admin.orgId]);
    expect(entries.length).toBeGreaterThanOrEqual(4);
    const victim = entries[1];
    await db.query('ALTER TABLE mint_audit DISABLE TRIGGER USER');
    try {
      await db.query('UPDATE mint_audit SET user_agent = $1 WHERE id = $2', ['edited by hand', victim.id]);
    } finally {
      await db.query('ALTER TABLE mint_audit ENABLE TRIGGER USER');
    }
    const result = await cli(db, ['audit:verify']);
    expectExit(result, 1);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([expect.objectContaining({ orgId: admin.orgId, ok: false, firstBrokenId: victim.id })]);
  });
});
