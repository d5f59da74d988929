import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shutDownGracefully } from '../apps/api/src/shutdown';
import { MintAuditWriter } from '../libs/audit/src/mints/mint-audit.writer';
import type { MintAuditInput } from '../libs/audit/src/mints/mint-audit.types';
import { expectStatus } from './support/assertions';
import { createOrgWithAdmin, OrgFixture } from './support/fixtures';
import { client } from './support/http';
import { entryPoint } from './support/entry-point';
import { createApiKey, fingerprintOf, putSinchVoice, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET } from './support/minting';
import { freePort, Load, Outcome, startLoad } from './support/load';
import { newMasterKey, startTestApp, TestApp } from './support/test-app';
import { createTestDatabase, TestDatabase } from './support/test-database';

/**
 * Graceful shutdown (issue: "SIGTERM stops accepting, finishes in-flight mints (their audit batches
 * commit), closes pools, exits 0"). In process: shutDownGracefully(app) under a steady mint load from
 * several keep-alive clients. As a process: the real entry point (apps/api/src/main) gets SIGTERM.
 *
 * What counts as correct: every answer is 200, or 503 UNAVAILABLE in the envelope for a request that
 * reached a closing server; a request that failed at the socket level was never handled (no log line,
 * no audit entry); every 200 has its committed audit entry and every issued entry had its 200 (no token
 * was minted and then lost with a cut connection); afterwards new connections are refused.
 */

const SINCH = '/api/calls/token/sinch';
const ROOT = join(__dirname, '..');

let counter = 0;
const newId = (label: string) => `${label}-${process.pid}-${++counter}-${randomBytes(4).toString('hex')}`;

/** One GET over `agent`, never rejecting: a socket failure is an outcome too. */
function send(agent: Agent, baseUrl: string, path: string, headers: Record<string, string>, label: string): Promise<Outcome> {
  const requestId = newId(label);
  const sentAt = Date.now();
  const url = new URL(path, baseUrl);
  return new Promise((resolve) => {
    const req = httpRequest(
      { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'GET', headers: { ...headers, 'x-request-id': requestId }, timeout: 15_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ requestId, sentAt, doneAt: Date.now(), error: `body: ${error.code ?? error.message}` }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ requestId, sentAt, doneAt: Date.now(), status: res.statusCode, headers: res.headers, body, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ requestId, sentAt, doneAt: Date.now(), error: error.code ?? error.message }));
    req.end();
  });
}

/** `clients` keep-alive clients (one connection each) minting back to back until the server refuses them. */
function startMintLoad(baseUrl: string, clients: Array<{ headers: Record<string, string>; path: string }>): Load<Outcome> {
  const agents = clients.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const load = startLoad(
    clients.length,
    (index) => send(agents[index], baseUrl, clients[index].path, clients[index].headers, `load${index}`),
    (outcome) => (outcome.error === 'ECONNREFUSED' ? 'stop' : undefined),
  );
  void load.done.then(() => agents.forEach((agent) => agent.destroy()));
  return load;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Like sleep, but does not keep the process alive (for the losing side of a race). */
const deadline = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

async function issuedEntries(db: TestDatabase, orgId: string): Promise<Array<{ request_id: string; token_fingerprint: string; outcome: string }>> {
  return db.query('SELECT request_id, token_fingerprint, outcome FROM mint_audit WHERE org_id = $1', [orgId]);
}

/**
 * The checks every shutdown must pass, whatever the timing: answers are 200 or 503 in the envelope,
 * socket failures were never handled by the server, and 200s and issued audit entries match one to one.
 */
async function checkOutcomes(outcomes: Outcome[], db: TestDatabase, orgId: string, logs: string): Promise<{ ok: Outcome[]; refused: Outcome[] }> {
  const problems: string[] = [];
  const ok = outcomes.filter((outcome) => outcome.status === 200);
  for (const outcome of outcomes) {
    if (outcome.error) continue;
    if (outcome.status === 200) {
      if (typeof outcome.body?.token !== 'string') problems.push(`${outcome.requestId}: 200 without a token: ${outcome.text}`);
      continue;
    }
    if (outcome.status !== 503) {
      problems.push(`${outcome.requestId}: status ${outcome.status} ${outcome.text}`);
      continue;
    }
    const body = outcome.body;
    const envelope =
      body?.success === false && body.code === 'UNAVAILABLE' && typeof body.error === 'string' && body.requestId === outcome.requestId && Object.keys(body).length === 4;
    if (!envelope || outcome.headers?.['x-request-id'] !== outcome.requestId) {
      problems.push(`${outcome.requestId}: 503 not in the envelope: ${JSON.stringify(outcome.headers)} ${outcome.text}`);
    }
  }

  const entries = await issuedEntries(db, orgId);
  const byRequest = new Map(entries.map((entry) => [entry.request_id, entry]));
  // A failed request must never have been handled: no audit entry, no request log line.
  for (const outcome of outcomes.filter((o) => o.error)) {
    if (byRequest.has(outcome.requestId)) problems.push(`${outcome.requestId}: ${outcome.error} but the server audited it (${byRequest.get(outcome.requestId)!.outcome})`);
    if (logs.includes(`"reqId":"${outcome.requestId}"`)) problems.push(`${outcome.requestId}: ${outcome.error} but the server answered it`);
  }
  // Every 200 has its committed issued entry with the token's fingerprint ...
  for (const outcome of ok) {
    const entry = byRequest.get(outcome.requestId);
    if (!entry || entry.outcome !== 'issued' || entry.token_fingerprint !== fingerprintOf(outcome.body.token)) {
      problems.push(`${outcome.requestId}: 200 but its audit entry is ${JSON.stringify(entry)}`);
    }
  }
  // ... and every issued entry of the load had its 200 (no token minted, then lost with its connection).
  const answered = new Set(ok.map((outcome) => outcome.requestId));
  const loadIds = new Set(outcomes.map((outcome) => outcome.requestId));
  for (const entry of entries) {
    if (loadIds.has(entry.request_id) && entry.outcome === 'issued' && !answered.has(entry.request_id)) {
      problems.push(`${entry.request_id}: issued and audited, but the client never got the 200`);
    }
  }
  expect(problems).toEqual([]);
  expect(entries.filter((entry) => entry.outcome === 'issued').length).toBeGreaterThanOrEqual(ok.length);
  return { ok, refused: outcomes.filter((outcome) => outcome.error === 'ECONNREFUSED') };
}

/** Connections to the test database other than this test's own, once they are gone (up to 3 s). */
async function connectionsLeft(db: TestDatabase): Promise<number> {
  let left = -1;
  for (let attempt = 0; attempt < 30 && left !== 0; attempt++) {
    if (attempt > 0) await sleep(100);
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
    left = row.n;
  }
  return left;
}

async function connectionRefused(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/health`, { signal: AbortSignal.timeout(3000) });
    return false;
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
  }
}

async function prepareOrg(target: { url: string; operatorToken: string }, name: string): Promise<{ org: OrgFixture; keyToken: string }> {
  const org = await createOrgWithAdmin(target as TestApp, name);
  expectStatus(await org.operator.patch(`/api/orgs/${org.orgId}`, { limits: { mintsPerMinute: 1_000_000 } }), 200);
  await putSinchVoice(org.admin, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET);
  const key = await createApiKey(org.admin, ['CREATE_CALL_TOKEN'], 'shutdown load');
  return { org, keyToken: key.token };
}

function loadClients(org: OrgFixture, keyToken: string, count: number): Array<{ headers: Record<string, string>; path: string }> {
  return Array.from({ length: count }, (_, index) => {
    const headers: Record<string, string> = {};
    if (index % 2 === 0) headers.authorization = `Bearer ${org.adminToken}`;
    else headers['x-api-key'] = keyToken;
    return { headers, path: index % 2 === 0 ? SINCH : `${SINCH}?userId=${org.adminId}` };
  });
}

describe('shutDownGracefully(app) under load', () => {
  let app: TestApp;
  let org: OrgFixture;
  let keyToken: string;
  let closed = false;

  beforeAll(async () => {
    app = await startTestApp();
    ({ org, keyToken } = await prepareOrg(app, 'Shutdown Org'));
  });

  afterAll(async () => {
    if (!closed) await app?.app.close().catch(() => undefined);
    await app?.db.drop();
  });

  it('finishes in-flight mints (their audit entries commit), answers late arrivals 503 in the envelope, closes the pools, then refuses connections', async () => {
    const port = new URL(app.url).port;
    // Warm up: every client has an open keep-alive connection and some 200s before the shutdown.
    const load = startMintLoad(app.url, loadClients(org, keyToken, 6));
    await sleep(400);
    expect(load.outcomes.filter((o) => o.status === 200).length).toBeGreaterThan(5);

    // A raw keep-alive connection that will send a request while the server is closing.
    const raw: Socket = connect(Number(port), '127.0.0.1');
    let rawText = '';
    raw.on('data', (chunk: Buffer) => (rawText += chunk.toString('latin1')));
    const rawClosed = new Promise<string | undefined>((resolve) => {
      raw.on('error', (error: NodeJS.ErrnoException) => resolve(error.code));
      raw.on('close', () => resolve(undefined));
    });
    const rawRequest = (id: string) =>
      `GET ${SINCH} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${org.adminToken}\r\nX-Request-Id: ${id}\r\nConnection: keep-alive\r\n\r\n`;
    const rawFirst = newId('raw-first');
    const rawLate = newId('raw-late');
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));

    // Shut down at the moment a mint (the raw connection's first request) is waiting for its audit
    // batch, so there is certainly a mint in flight; right then the raw connection sends a second request.
    const writer = app.app.get(MintAuditWriter);
    const record = writer.record.bind(writer);
    let shutdownCalledAt = 0;
    let shutdown: Promise<void> | undefined;
    writer.record = (input: MintAuditInput) => {
      const committed = record(input);
      if (input.requestId === rawFirst && !shutdown) {
        shutdownCalledAt = Date.now();
        shutdown = shutDownGracefully(app.app);
        raw.write(rawRequest(rawLate));
      }
      return committed;
    };
    raw.write(rawRequest(rawFirst));
    const giveUpAt = Date.now() + 5000;
    while (!shutdown && Date.now() < giveUpAt) await sleep(5);
    expect(shutdown).toBeDefined();

    const started = Date.now();
    await shutdown;
    closed = true;
    const took = Date.now() - started;
    expect(took).toBeLessThan(10_000);

    // The load clients keep trying until each is refused a new connection.
    const stopAfter = setTimeout(() => load.stop(), 5000);
    await load.done;
    clearTimeout(stopAfter);
    const rawError = await Promise.race([rawClosed, deadline(3000).then(() => 'still open')]);
    raw.destroy();

    // New connections are refused.
    expect(await connectionRefused(app.url)).toBe(true);

    // The raw connection: its first (in-flight) mint got its 200 and the late request 200 or a 503
    // envelope with Connection: close; then the server closed the connection (no reset of a started request).
    expect(rawError).toBeUndefined();
    const answers = rawText.split(/(?=HTTP\/1\.1 )/).filter((part) => part.startsWith('HTTP/1.1 '));
    expect(answers.length).toBeGreaterThanOrEqual(1);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 200 /);
    expect(answers[0].toLowerCase()).toContain(`x-request-id: ${rawFirst}`);
    const rawOutcomes: Outcome[] = [parseRaw(answers[0], rawFirst, shutdownCalledAt)];
    if (answers[1]) {
      const late = parseRaw(answers[1], rawLate, shutdownCalledAt);
      expect([200, 503]).toContain(late.status);
      if (late.status === 503) expect(String(late.headers?.connection).toLowerCase()).toBe('close');
      rawOutcomes.push(late);
    } else {
      // Not answered: then it must never have been handled (checked below with the socket failures).
      rawOutcomes.push({ requestId: rawLate, sentAt: shutdownCalledAt, doneAt: Date.now(), error: 'closed before an answer' });
    }

    const all = [...load.outcomes, ...rawOutcomes];
    const { ok, refused } = await checkOutcomes(all, app.db, org.orgId, app.logs.join(''));
    expect(refused.length).toBeGreaterThan(0);
    // Mints that were in flight when the shutdown began completed with 200 (at least the raw one).
    expect(ok.filter((o) => o.sentAt <= shutdownCalledAt && o.doneAt >= shutdownCalledAt).length).toBeGreaterThanOrEqual(1);
    const unexpected = all.filter((o) => o.error && o.error !== 'ECONNREFUSED' && o.error !== 'ECONNRESET' && o.error !== 'closed before an answer');
    expect(unexpected.map((o) => `${o.requestId}: ${o.error}`)).toEqual([]);

    // The service's pools are closed: no connection but this test's own is left on its database.
    expect(await connectionsLeft(app.db)).toBe(0);
  });
});

function parseRaw(text: string, requestId: string, at: number): Outcome {
  const [head, ...rest] = text.split('\r\n\r\n');
  const [statusLine, ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let bodyText = rest.join('\r\n\r\n');
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: string[] = [];
    let remaining = bodyText;
    for (;;) {
      const lineEnd = remaining.indexOf('\r\n');
      const size = parseInt(remaining.slice(0, lineEnd), 16);
      if (!size) break;
      parts.push(remaining.slice(lineEnd + 2, lineEnd + 2 + size));
      remaining = remaining.slice(lineEnd + 2 + size + 2);
    }
    bodyText = parts.join('');
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bodyText, 'latin1').toString('utf8'));
  } catch {
    body = undefined;
  }
  return { requestId, sentAt: at, doneAt: at, status: Number(statusLine.split(' ')[1]), headers, body, text: bodyText };
}

describe('the server process on SIGTERM', () => {
  const entry = entryPoint('api', ['apps/api/src/shutdown.js']);
  let child: ChildProcess | undefined;
  let db: TestDatabase;
  let dataDir: string;
  const output: string[] = [];

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (!('skip' in entry)) entry.cleanup();
  });

  const run = 'skip' in entry ? it.skip : it;
  if ('skip' in entry) console.warn(`graceful-shutdown: skipping the process-level SIGTERM check: ${entry.skip}`);

  run('stops accepting, finishes in-flight mints, exits 0', async () => {
    if ('skip' in entry) return;
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'mintline-proc-'));
    const port = await freePort();
    const operatorToken = `op_${randomBytes(24).toString('base64url')}`;
    const url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, entry.args, {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: db.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        OPERATOR_TOKEN: operatorToken,
        MASTER_KEYS: newMasterKey('k1'),
        JWT_SECRET: randomBytes(32).toString('base64url'),
        MINTLINE_DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child!.on('exit', (code, signal) => resolve({ code, signal })));

    let ready = false;
    for (let attempt = 0; attempt < 300 && !ready && child.exitCode === null; attempt++) {
      ready = await fetch(`${url}/health/ready`).then((response) => response.status === 200, () => false);
      if (!ready) await sleep(100);
    }
    if (!ready) throw new Error(`the server (${entry.how}) did not become ready:\n${output.join('').slice(-3000)}`);

    const { org, keyToken } = await prepareOrg({ url, operatorToken }, 'Process Org');
    expectStatus(await client(url, org.adminToken).get(SINCH), 200);

    const load = startMintLoad(url, loadClients(org, keyToken, 4));
    await sleep(400);
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const stopAfter = setTimeout(() => load.stop(), 10_000);
    const exit = await Promise.race([exited, deadline(25_000).then(() => ({ code: null, signal: null, timedOut: true }))]);
    await load.done;
    clearTimeout(stopAfter);

    expect({ ...exit, how: entry.how }).toEqual({ code: 0, signal: null, how: entry.how });
    const log = output.join('');
    expect(log).toContain('"msg":"shutting down"');
    expect(log).toContain('"msg":"stopped"');
    expect(await connectionRefused(url)).toBe(true);

    const { ok } = await checkOutcomes(load.outcomes, db, org.orgId, log);
    expect(ok.filter((o) => o.doneAt < signalledAt).length).toBeGreaterThan(0);
    // No connection of the stopped process is left on the database (only this test's own).
    expect(await connectionsLeft(db)).toBe(0);
  }, 90_000);
});
