'use strict';
// npm run bench: the service's audited Sinch mint against two references, side by side, plus call-token
// mint+redeem and an audit page over 1,000,000 entries. Prints a table; `-- --write` also writes it to
// BENCHMARKS.md. Uses DATABASE_URL's server (a fresh database of its own), else an embedded PostgreSQL.
const { fork, spawn } = require('node:child_process');
const { generateKeyPairSync, randomBytes } = require('node:crypto');
const { mkdtempSync, openSync, readFileSync, writeFileSync } = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const jwt = require('jsonwebtoken');
const { Client } = require('pg');

const ROOT = path.join(__dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 50);
const AUDIT_ROWS = Number(process.env.BENCH_AUDIT_ROWS || 1_000_000);
const APP_KEY = 'a32e5a8d-f7d8-411c-9645-9038e8dd051d';
const APP_SECRET = 'ax8hTTQJF0OPXL32r1LHMA==';
const TARGETS = { bareRatio: 0.35, naiveRatio: 3, p99Ms: 25, rssMb: 300 };

const children = [];
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));

async function main() {
  const database = await benchDatabase();
  const results = [];
  try {
    const service = await startService(database.url);
    const setup = await setUp(service.url, service.operatorToken);
    // Runs of a fixed number of requests, sized from a warm-up, so that no request is cut off in
    // flight when a run ends: then every 200 can be matched with its committed audit entry.
    const warmup = await runAmount(`${service.url}/api/calls/token/sinch`, setup.agentToken, 5000);
    const mint = await runAmount(`${service.url}/api/calls/token/sinch`, setup.agentToken, Math.round(warmup.rps * SECONDS));
    mint.rssMb = peakRssMb(service.child.pid);
    // Every 200 the service sent (warm-up included, and answers still in flight when a run stopped)
    // against every audit entry it committed.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const issued = await countIssued(database.url, setup.orgId);
    mint.served = await servedOk(service.url);
    results.push({ name: 'Mintline: GET /api/calls/token/sinch (audited)', ...mint });

    const callTokens = await runCallTokens(service.url, setup);
    const auditPage = await runAuditPages(service.url, database.url, setup);
    const serviceRss = peakRssMb(service.child.pid);
    service.child.kill('SIGTERM');

    const bare = await runReference('reference-bare.js', {}, setup);
    results.push({ name: 'bare node:http + HS256 (no database)', ...bare });
    const naive = await runReference('reference-naive.js', { DATABASE_URL: database.url }, setup, () => naiveSchema(database.url, setup));
    results.push({ name: 'Express + jsonwebtoken + pg (1 read, 1 insert)', ...naive });

    const report = formatReport({ mint, bare, naive, issued, callTokens, auditPage, serviceRss, results });
    console.log(report);
    if (process.argv.includes('--write')) writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), report);
    const failed = checkTargets(mint, bare, naive, issued, serviceRss);
    if (failed.length) console.log(`\nTargets missed: ${failed.join('; ')}`);
  } finally {
    await database.drop();
  }
}

async function benchDatabase() {
  let serverUrl = process.env.DATABASE_URL;
  let embedded;
  if (!serverUrl) {
    const { startEmbeddedPostgres } = require(path.join(ROOT, 'dist/libs/common/src/database/embedded-postgres'));
    const pino = require('pino');
    embedded = await startEmbeddedPostgres(mkdtempSync(path.join(os.tmpdir(), 'mintline-bench-pg-')), await freePort(), pino({ level: 'warn' }));
    serverUrl = embedded.url;
  }
  const name = `mintline_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: withDatabase(serverUrl, name),
    async drop() {
      const dropper = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
      await embedded?.stop();
    },
  };
}

function withDatabase(url, database) {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function startService(databaseUrl) {
  const port = await freePort();
  const logFile = path.join(os.tmpdir(), `mintline-bench-${port}.log`);
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    OPERATOR_TOKEN: `op-${randomBytes(16).toString('hex')}`,
    MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    JWT_SECRET: randomBytes(32).toString('base64url'),
    AUDIT_SIGNING_KEYS: `a1:${generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')}`,
    LOG_LEVEL: process.env.LOG_LEVEL || 'info',
  };
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/apps/api/src/main.js')], { env, stdio: ['ignore', out, out] });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/health/ready`, child);
  return { child, url, operatorToken: env.OPERATOR_TOKEN };

  async function waitFor(target, proc) {
    for (let i = 0; i < 120; i += 1) {
      if (proc.exitCode !== null) throw new Error(`the service exited; see ${logFile}`);
      const ok = await fetch(target).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`the service did not become ready; see ${logFile}`);
  }
}

async function api(url, method, pathName, token, body) {
  const response = await fetch(url + pathName, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${method} ${pathName}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function setUp(url, op) {
  const org = await api(url, 'POST', '/api/orgs', op, { name: 'Bench' });
  await api(url, 'PATCH', `/api/orgs/${org.id}`, op, { features: { webrtc: true }, limits: { mintsPerMinute: 1_000_000 } });
  const password = 'bench password 0123456789';
  await api(url, 'POST', `/api/orgs/${org.id}/users`, op, { email: 'admin@bench.test', password, role: 'admin' });
  const adminToken = (await api(url, 'POST', '/api/auth/login', '', { email: 'admin@bench.test', password })).accessToken;
  const agent = await api(url, 'POST', '/api/users', adminToken, { email: 'agent@bench.test', password, role: 'agent' });
  await api(url, 'POST', '/api/users', adminToken, { email: 'auditor@bench.test', password, role: 'auditor' });
  await api(url, 'PUT', '/api/credentials/sinch-voice', adminToken, { applicationKey: APP_KEY, applicationSecret: APP_SECRET });
  await api(url, 'POST', `/api/users/${agent.id}/phone-numbers`, adminToken, { provider: 'sinch', phoneNumber: '+14165550100', isDefault: true });
  const endpoint = await api(url, 'POST', '/api/endpoints', adminToken, { name: 'bench', webrtc: true });
  const key = await api(url, 'POST', '/api/api-keys', adminToken, { name: 'bench backend', scopes: ['CREATE_CALL_TOKEN'] });
  const agentToken = (await api(url, 'POST', '/api/auth/login', '', { email: 'agent@bench.test', password })).accessToken;
  const auditorToken = (await api(url, 'POST', '/api/auth/login', '', { email: 'auditor@bench.test', password })).accessToken;
  return { orgId: org.id, agentId: agent.id, agentToken, auditorToken, adminToken, endpointId: endpoint.id, apiKey: key.token };
}

function run(url, token, seconds, extra = {}) {
  return autocannon({ url, connections: CONNECTIONS, duration: seconds, headers: { authorization: `Bearer ${token}` }, ...extra }).then(summarise);
}

async function runAmount(url, token, amount) {
  const started = Date.now();
  const result = summarise(await autocannon({ url, connections: CONNECTIONS, amount, headers: { authorization: `Bearer ${token}` } }));
  result.rps = (result.ok + result.non2xx) / ((Date.now() - started) / 1000);
  return result;
}

function summarise(result) {
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function servedOk(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('mintline_http_requests_total{') && l.includes('route="/api/calls/token/sinch"') && l.includes('status="200"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function countIssued(databaseUrl, orgId) {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query(`SELECT count(*)::int AS n FROM mint_audit WHERE org_id = $1 AND provider = 'sinch' AND outcome = 'issued'`, [orgId]);
  await client.end();
  return rows[0].n;
}

async function runCallTokens(url, setup) {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        path: '/api/call-tokens',
        headers: { 'x-api-key': setup.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ endpointId: setup.endpointId }),
        onResponse: (status, body, context) => {
          context.token = status === 201 ? JSON.parse(body).token : 'mct_invalid';
        },
      },
      {
        method: 'POST',
        path: '/api/call-tokens/redeem',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request, context) => ({ ...request, body: JSON.stringify({ token: context.token }) }),
      },
    ],
  }).then(summarise);
  return { ...result, pairs: result.rps / 2 };
}

async function runAuditPages(url, databaseUrl, setup) {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const started = Date.now();
  // A million entries for the bench org, spread over the last half hour, cycling providers and actors.
  await client.query(
    `INSERT INTO mint_audit (org_id, at, seq, id, provider, action, actor_kind, actor_id, subject_user_id, target, outcome, code,
                             token_fingerprint, expires_at, ip, user_agent, request_id, prev_hash, hash)
     SELECT $1, now() - (($2 - g) * interval '1 millisecond') * 1.5, 1000000 + g, gen_random_uuid(),
            (ARRAY['sinch','twilio','signalwire-chat','call-token'])[1 + g % 4], 'mint', 'user', 'actor-' || (g % 100), NULL, 'sinch:bench',
            CASE WHEN g % 50 = 0 THEN 'denied' ELSE 'issued' END, NULL, substr(md5(g::text), 1, 16), now(), '127.0.0.1', 'bench', NULL,
            '\\x00', '\\x00'
       FROM generate_series(1, $2) AS g`,
    [setup.orgId, AUDIT_ROWS],
  );
  await client.query('ANALYZE mint_audit');
  const filled = (Date.now() - started) / 1000;
  const plan = (
    await client.query(
      `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) SELECT * FROM mint_audit WHERE org_id = $1 AND provider = 'twilio' ORDER BY at DESC, seq DESC LIMIT 101`,
      [setup.orgId],
    )
  ).rows.map((row) => row['QUERY PLAN']);
  await client.end();
  const newest = await run(`${url}/api/audit/mints?limit=100`, setup.auditorToken, Math.max(3, SECONDS / 2));
  const filtered = await run(`${url}/api/audit/mints?limit=100&provider=twilio&actorId=actor-5`, setup.auditorToken, Math.max(3, SECONDS / 2));
  return { filled, plan, newest, filtered };
}

async function naiveSchema(databaseUrl, setup) {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`CREATE TABLE IF NOT EXISTS naive_credentials (org_id uuid PRIMARY KEY, application_key text, application_secret text)`);
  await client.query(`CREATE TABLE IF NOT EXISTS naive_audit (id uuid PRIMARY KEY, org_id uuid, user_id text, at timestamptz, fingerprint text)`);
  await client.query(`INSERT INTO naive_credentials VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [setup.orgId, APP_KEY, APP_SECRET]);
  await client.end();
}

async function runReference(script, env, setup, prepare) {
  await prepare?.();
  const port = await freePort();
  const secret = randomBytes(32).toString('base64url');
  const child = fork(path.join(__dirname, script), [], {
    env: { ...process.env, PORT: String(port), JWT_SECRET: secret, APP_KEY, APP_SECRET, ...env },
    stdio: 'ignore',
  });
  children.push(child);
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', () => reject(new Error(`${script} exited`)));
  });
  const token = jwt.sign({ sub: setup.agentId, org: setup.orgId }, secret, { algorithm: 'HS256', expiresIn: 900 });
  const url = `http://127.0.0.1:${port}/api/calls/token/sinch`;
  await run(url, token, 2);
  const result = await run(url, token, SECONDS);
  result.rssMb = peakRssMb(child.pid);
  child.kill('SIGTERM');
  return result;
}

function peakRssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function checkTargets(mint, bare, naive, issued, rss) {
  const failed = [];
  if (mint.rps / bare.rps < TARGETS.bareRatio) failed.push(`service/bare ${(mint.rps / bare.rps).toFixed(2)} < ${TARGETS.bareRatio}`);
  if (mint.rps / naive.rps < TARGETS.naiveRatio) failed.push(`service/naive ${(mint.rps / naive.rps).toFixed(2)} < ${TARGETS.naiveRatio}`);
  if (mint.p99 > TARGETS.p99Ms) failed.push(`p99 ${mint.p99} ms > ${TARGETS.p99Ms} ms`);
  if (rss > TARGETS.rssMb) failed.push(`peak RSS ${rss.toFixed(0)} MB > ${TARGETS.rssMb} MB`);
  if (mint.non2xx + mint.errors > 0) failed.push(`${mint.non2xx} non-2xx and ${mint.errors} errors under load`);
  if (issued !== mint.served) failed.push(`audit entries ${issued} != 200s served ${mint.served}`);
  return failed;
}

function formatReport({ mint, bare, naive, issued, callTokens, auditPage, serviceRss, results }) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const row = (r) => `| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.rssMb.toFixed(0)} | ${r.non2xx + r.errors} |`;
  const lines = [
    '# Benchmarks',
    '',
    `Produced by \`npm run bench -- --write\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB,`,
    `Node ${process.version}, PostgreSQL ${process.env.DATABASE_URL ? 'from DATABASE_URL' : 'embedded'}; autocannon on the same machine, ${CONNECTIONS} connections, ${SECONDS} s per run.`,
    '',
    '## Sinch token mint',
    '',
    '| server | requests/s | p50 ms | p99 ms | peak RSS MB | errors |',
    '|---|---|---|---|---|---|',
    ...results.map(row),
    '',
    `- service/bare = **${(mint.rps / bare.rps).toFixed(2)}** (target ≥ ${TARGETS.bareRatio}); service/naive = **${(mint.rps / naive.rps).toFixed(2)}** (target ≥ ${TARGETS.naiveRatio})`,
    `- p99 ${mint.p99} ms (target ≤ ${TARGETS.p99Ms}); service peak RSS over the whole run ${serviceRss.toFixed(0)} MB (target ≤ ${TARGETS.rssMb})`,
    `- sinch tokens issued by the service in all runs (its own count of 200s): ${mint.served}; audit entries committed: ${issued} (${issued === mint.served ? 'equal' : 'NOT equal'})`,
    '',
    '## Call tokens: mint (API key) + redeem (anonymous)',
    '',
    `${Math.round(callTokens.pairs)} mint+redeem pairs/s (${Math.round(callTokens.rps)} requests/s), p50 ${callTokens.p50} ms, p99 ${callTokens.p99} ms, ${callTokens.non2xx + callTokens.errors} errors.`,
    '',
    `## Audit page over ${AUDIT_ROWS.toLocaleString('en')} entries of one org`,
    '',
    `Filled in ${auditPage.filled.toFixed(1)} s.`,
    '',
    '| query | requests/s | p50 ms | p99 ms |',
    '|---|---|---|---|',
    `| newest 100 | ${Math.round(auditPage.newest.rps)} | ${auditPage.newest.p50} | ${auditPage.newest.p99} |`,
    `| provider=twilio & actorId, 100 | ${Math.round(auditPage.filtered.rps)} | ${auditPage.filtered.p50} | ${auditPage.filtered.p99} |`,
    '',
    'Plan of a filtered page (`provider = twilio`):',
    '',
    '```',
    ...auditPage.plan,
    '```',
    '',
  ];
  return lines.join('\n');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
