import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { expectStatus } from './support/assertions';
import { client } from './support/http';
import { startTestApp, TestApp } from './support/test-app';

/** scripts/tour.sh, run as a reader would run it (bash, curl, jq) against the real service, and the README's copy of it. */

const ROOT = join(__dirname, '..');
const SCRIPT = join(ROOT, 'scripts', 'tour.sh');
const TOUR_MARKER = '# ---- The tour';

interface TourRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the script as a child process with only these variables (and PATH/HOME), asynchronously: the
 * service it talks to runs in this very process.
 */
function runTour(env: Record<string, string>): Promise<TourRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT], { cwd: ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A port nothing listens on: taken from the system, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The text of every fenced block of the markdown file. */
function fencedBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
}

describe('the README quotes the tour', () => {
  it('its tour block is scripts/tour.sh from "# ---- The tour" to the end, verbatim', () => {
    const script = readFileSync(SCRIPT, 'utf8');
    const start = script.indexOf(TOUR_MARKER);
    expect(start).toBeGreaterThan(0);
    const quoted = fencedBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8')).filter((block) => block.startsWith(TOUR_MARKER));
    expect(quoted).toEqual([script.slice(start)]);
  });
});

describe('scripts/tour.sh against a running service', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });

  afterAll(async () => {
    await app?.close();
  });

  const steps = [
    'the service is up',
    'create an org (operator token)',
    "create the org's first admin (operator token)",
    'log in as the admin',
    'who am I',
    'create an agent',
    'give the agent a caller ID',
    'create an API key',
    'store the Sinch Voice credentials',
    'log in as the agent',
    'the agent mints a Sinch token',
    'the backend mints for the agent',
    'read the mint audit log',
    'verify the audit chain',
  ];

  it('runs to the end, twice in a row, each run in an org of its own', async () => {
    const orgs: string[] = [];
    for (let round = 0; round < 2; round++) {
      const run = await runTour({ MINTLINE_URL: app.url, OPERATOR_TOKEN: app.operatorToken });
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      for (const step of steps) expect(run.stdout).toContain(`\n== ${step}: `);
      expect(run.stdout).toContain('== the agent mints a Sinch token: GET /api/calls/token/sinch -> 200');
      // The agent's first sinch number is its caller ID in the mint.
      expect(run.stdout).toContain('"callerIdentifier": "+14165550100"');
      const done = run.stdout.match(/\ntour: all 14 steps passed \(org ([0-9a-f-]{36}), admin (admin-[^@\s]+@acme\.example)\)\n$/);
      expect(done).not.toBeNull();
      orgs.push(done![1]);
    }
    expect(new Set(orgs).size).toBe(2);

    // What the tour did is there for the operator and the org's admin to see.
    const operator = client(app.url, app.operatorToken);
    for (const orgId of orgs) {
      const org = await operator.get(`/api/orgs/${orgId}`);
      expectStatus(org, 200);
      expect(org.body.name).toMatch(/^Acme \d+-\d+$/);
    }
  });

  it('a wrong operator token: exits non-zero at the org step, showing the error envelope', async () => {
    const run = await runTour({ MINTLINE_URL: app.url, OPERATOR_TOKEN: `${app.operatorToken}x` });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('tour: step "create an org (operator token)" failed: POST /api/orgs answered 401 (expected 201):');
    expect(run.stderr).toContain('"success": false');
    expect(run.stderr).toContain('"code": "UNAUTHORIZED"');
    // It went no further than that step.
    expect(run.stdout).toContain('== the service is up: GET /health -> 200');
    expect(run.stdout).not.toContain('== log in as the admin');
  });

  it('no service at MINTLINE_URL: exits non-zero saying that nothing answered', async () => {
    const run = await runTour({ MINTLINE_URL: `http://127.0.0.1:${await closedPort()}`, OPERATOR_TOKEN: app.operatorToken });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^tour: step "the service is up" failed: GET \/health got no answer from http:\/\/127\.0\.0\.1:\d+ \(is the service running\?\)/);
    expect(run.stdout).toBe('');
  });

  it('without OPERATOR_TOKEN: exits non-zero asking for it, before any request', async () => {
    const run = await runTour({ MINTLINE_URL: app.url });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('set OPERATOR_TOKEN to the operator token the service was started with');
    expect(run.stdout).toBe('');
  });
});
