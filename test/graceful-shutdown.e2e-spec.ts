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
import { startSignalWireFake, SignalWireFake } from './fakes/signalwire.fake';
import { createApiKey, fingerprintOf, putSinchVoice, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET } from './support/minting';
import { entryPoint } from './support/entry-point';
import { freePort, Load, Outcome as LoadOutcome, startLoad } from './support/load';
import { MINT_KINDS, MintMix, MixRequest, prepareMintMix, successStatus, tokenOf } from './support/mint-mix';
import { startTestApp, TestApp } from './support/test-app';
import { createTestDatabase, TestDatabase } from './support/test-database';

/**
 * Graceful shutdown (issue: "SIGTERM stops accepting, finishes in-flight mints (their audit batches
 * commit), closes pools, exits 0"). In process: shutDownGracefully(app) under a steady mint load from
 * several keep-alive clients, over every mint path (Sinch and Twilio voice, SignalWire chat from a fake
 * space, call-token mints and redemptions: see MintMix). As a process: the real entry point
 * (apps/api/src/main) gets SIGTERM.
 *
 * What counts as correct: every answer is its path's success (200; a call-token mint 201), or 503
 * UNAVAILABLE in the envelope for a request that reached a closing server; a request that failed at the socket level was never handled (no log line,
 * no audit entry); every 200 has its committed audit entry and every issued entry had its 200 (no token
 * was minted and then lost with a cut connection); afterwards new connections are refused.
 */

const SINCH = '/api/calls/token/sinch';
const ROOT = join(__dirname, '..');

interface Outcome extends LoadOutcome {
  /** What was asked (the raw connection's requests are Sinch mints). */
  request: MixRequest;
}

const SINCH_REQUEST: MixRequest = { kind: 'sinch', method: 'GET', path: SINCH, anonymous: false };
/** An answer with its path's success status. */
const succeeded = (outcome: Outcome) => outcome.status === successStatus(outcome.request.kind);

let counter = 0;
const newId = (label: string) => `${label}-${process.pid}-${++counter}-${randomBytes(4).toString('hex')}`;

/** One request over `agent`, never rejecting: a socket failure is an outcome too. */
function send(agent: Agent, baseUrl: string, request: MixRequest, headers: Record<string, string>, label: string): Promise<Omit<Outcome, 'request'>> {
  const requestId = newId(label);
  const sentAt = Date.now();
  const url = new URL(request.path, baseUrl);
  const payload = request.body !== undefined ? JSON.stringify(request.body) : undefined;
  const bodyHeaders: Record<string, string> = payload !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {};
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: request.method,
        headers: { ...headers, ...bodyHeaders, 'x-request-id': requestId },
        timeout: 15_000,
      },
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
    req.end(payload);
  });
}

/** `clients` keep-alive clients (one connection each) minting over the mix back to back until the server refuses them. */
function startMixLoad(baseUrl: string, mix: MintMix, clients: Array<{ headers: Record<string, string>; byApiKey: boolean }>): Load<Outcome> {
  const agents = clients.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const sent = clients.map(() => 0);
  const load = startLoad(
    clients.length,
    async (index) => {
      const { headers, byApiKey } = clients[index];
      const request = mix.next(index, sent[index]++, byApiKey);
      const outcome: Outcome = { ...(await send(agents[index], baseUrl, request, request.anonymous ? {} : headers, `load${index}`)), request };
      mix.answered(request, outcome.status, outcome.body);
      return outcome;
    },
    (outcome) => (outcome.error === 'ECONNREFUSED' ? 'stop' : undefined),
  );
  void load.done.finally(() => agents.forEach((agent) => agent.destroy()));
  return load;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Like sleep, but does not keep the process alive (for the losing side of a race). */
const deadline = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

async function issuedEntries(db: TestDatabase, orgId: string): Promise<Array<{ request_id: string; token_fingerprint: string; outcome: string }>> {
  return db.query('SELECT request_id, token_fingerprint, outcome FROM mint_audit WHERE org_id = $1', [orgId]);
}

/**
 * The checks every shutdown must pass, whatever the timing: answers are their path's success (a token;
 * a redemption: a session) or 503 in the envelope, socket failures were never handled by the server, and
 * successes and issued audit entries match one to one.
 */
async function checkOutcomes(outcomes: Outcome[], db: TestDatabase, orgId: string, logs: string): Promise<{ ok: Outcome[]; refused: Outcome[] }> {
  const problems: string[] = [];
  const ok = outcomes.filter(succeeded);
  for (const outcome of outcomes) {
    if (outcome.error) continue;
    if (succeeded(outcome)) {
      const token = tokenOf(outcome.request, outcome.body);
      if ('problem' in token) problems.push(`${outcome.requestId}: ${outcome.request.kind} ${token.problem}: ${outcome.text}`);
      continue;
    }
    if (outcome.status !== 503) {
      problems.push(`${outcome.requestId}: ${outcome.request.kind} status ${outcome.status} ${outcome.text}`);
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
  // Every success has its committed issued entry with the token's fingerprint ...
  for (const outcome of ok) {
    const entry = byRequest.get(outcome.requestId);
    const token = tokenOf(outcome.request, outcome.body);
    if (!entry || entry.outcome !== 'issued' || !('token' in token) || entry.token_fingerprint !== fingerprintOf(token.token)) {
      problems.push(`${outcome.requestId}: ${outcome.request.kind} ${outcome.status} but its audit entry is ${JSON.stringify(entry)}`);
    }
  }
  // ... and every issued entry of the load had its success (no token minted, then lost with its connection).
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

async function prepareOrg(target: { url: string; operatorToken: string }, name: string, sw: SignalWireFake): Promise<{ org: OrgFixture; keyToken: string; mix: MintMix }> {
  const org = await createOrgWithAdmin(target as TestApp, name);
  expectStatus(await org.operator.patch(`/api/orgs/${org.orgId}`, { limits: { mintsPerMinute: 1_000_000 } }), 200);
  await putSinchVoice(org.admin, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET);
  const { endpointId } = await prepareMintMix(org.admin, org.operator, org.orgId, sw);
  const key = await createApiKey(org.admin, ['CREATE_CALL_TOKEN', 'CREATE_CHAT_TOKEN'], 'shutdown load');
  return { org, keyToken: key.token, mix: new MintMix(endpointId, org.adminId) };
}

/** Half the clients mint as the admin user, half with the API key (naming the admin as the user). */
function loadClients(org: OrgFixture, keyToken: string, count: number): Array<{ headers: Record<string, string>; byApiKey: boolean }> {
  return Array.from({ length: count }, (_, index) => {
    const headers: Record<string, string> = {};
    if (index % 2 === 0) headers.authorization = `Bearer ${org.adminToken}`;
    else headers['x-api-key'] = keyToken;
    return { headers, byApiKey: index % 2 !== 0 };
  });
}

describe('shutDownGracefully(app) under load', () => {
  let app: TestApp;
  let org: OrgFixture;
  let keyToken: string;
  let mix: MintMix;
  let sw: SignalWireFake;
  let closed = false;

  beforeAll(async () => {
    sw = await startSignalWireFake();
    // The fake SignalWire space is plain http on 127.0.0.1.
    app = await startTestApp({ config: { allowInsecureProviderUrls: true } });
    ({ org, keyToken, mix } = await prepareOrg(app, 'Shutdown Org', sw));
  });

  afterAll(async () => {
    if (!closed) await app?.app.close().catch(() => undefined);
    await app?.db.drop();
    await sw?.close();
  });

  it('finishes in-flight mints (their audit entries commit), answers late arrivals 503 in the envelope, closes the pools, then refuses connections', async () => {
    const port = new URL(app.url).port;
    // Warm up: every client has an open keep-alive connection and some 200s before the shutdown.
    const load = startMixLoad(app.url, mix, loadClients(org, keyToken, 6));
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
    const rawOutcomes: Outcome[] = [{ ...parseRaw(answers[0], rawFirst, shutdownCalledAt), request: SINCH_REQUEST }];
    if (answers[1]) {
      const late: Outcome = { ...parseRaw(answers[1], rawLate, shutdownCalledAt), request: SINCH_REQUEST };
      expect([200, 503]).toContain(late.status);
      if (late.status === 503) expect(String(late.headers?.connection).toLowerCase()).toBe('close');
      rawOutcomes.push(late);
    } else {
      // Not answered: then it must never have been handled (checked below with the socket failures).
      rawOutcomes.push({ requestId: rawLate, sentAt: shutdownCalledAt, doneAt: Date.now(), error: 'closed before an answer', request: SINCH_REQUEST });
    }

    const all = [...load.outcomes, ...rawOutcomes];
    const { ok, refused } = await checkOutcomes(all, app.db, org.orgId, app.logs.join(''));
    expect(refused.length).toBeGreaterThan(0);
    // The load went down every mint path.
    expect(MINT_KINDS.filter((kind) => ok.some((o) => o.request.kind === kind))).toEqual(MINT_KINDS);
    // Mints that were in flight when the shutdown began completed with 200 (at least the raw one).
    expect(ok.filter((o) => o.sentAt <= shutdownCalledAt && o.doneAt >= shutdownCalledAt).length).toBeGreaterThanOrEqual(1);
    const unexpected = all.filter((o) => o.error && o.error !== 'ECONNREFUSED' && o.error !== 'ECONNRESET' && o.error !== 'closed before an answer');
    expect(unexpected.map((o) => `${o.requestId}: ${o.error}`)).toEqual([]);

    // The service's pools are closed: no connection but this test's own is left on its database.
    expect(await connectionsLeft(app.db)).toBe(0);
  });
});

function parseRaw(text: string, requestId: string, at: number): Omit<Outcome, 'request'> {
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
  let sw: SignalWireFake | undefined;
  let db: TestDatabase;
  let dataDir: string;
  const output: string[] = [];

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    await db?.drop();
    await sw?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (!('skip' in entry)) entry.cleanup();
  });

  const run = 'skip' in entry ? it.skip : it;
  if ('skip' in entry) console.warn(`graceful-shutdown: skipping the process-level SIGTERM check: ${entry.skip}`);

  run(
    'stops accepting, finishes in-flight mints, exits 0',
    async () => {
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
          MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
          JWT_SECRET: randomBytes(32).toString('base64url'),
          MINTLINE_DATA_DIR: dataDir,
          LOG_LEVEL: 'info',
          // The fake SignalWire space of the load is plain http on 127.0.0.1.
          ALLOW_INSECURE_PROVIDER_URLS: 'true',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
      child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child!.on('exit', (code, signal) => resolve({ code, signal })));

      let ready = false;
      for (let attempt = 0; attempt < 300 && !ready && child.exitCode === null; attempt++) {
        ready = await fetch(`${url}/health/ready`).then(
          (response) => response.status === 200,
          () => false,
        );
        if (!ready) await sleep(100);
      }
      if (!ready) throw new Error(`the server (${entry.how}) did not become ready:\n${output.join('').slice(-3000)}`);

      sw = await startSignalWireFake();
      const { org, keyToken, mix } = await prepareOrg({ url, operatorToken }, 'Process Org', sw);
      expectStatus(await client(url, org.adminToken).get(SINCH), 200);

      const load = startMixLoad(url, mix, loadClients(org, keyToken, 4));
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
    },
    90_000,
  );
});
