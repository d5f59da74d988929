import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestApp, TestApp } from './support/test-app';

const run = promisify(execFile);
const root = join(__dirname, '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

/**
 * The served document passes Redocly's `recommended` rules (redocly.yaml) and Spectral's OpenAPI and
 * OWASP rulesets (.spectral.yaml) without an error. Both linters run as they would in CI, on the
 * document a client would download.
 */
describe('OpenAPI document lint', () => {
  let app: TestApp;
  let dir: string;
  let file: string;

  beforeAll(async () => {
    app = await startTestApp();
    const answer = await fetch(`${app.url}/docs/openapi.json`);
    expect(answer.status).toBe(200);
    dir = mkdtempSync(join(tmpdir(), 'mintline-openapi-'));
    file = join(dir, 'openapi.json');
    writeFileSync(file, await answer.text());
  });

  afterAll(async () => {
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('passes Redocly recommended with no error', async () => {
    const { stdout } = await run(bin('redocly'), ['lint', file, '--config', join(root, 'redocly.yaml'), '--format', 'json'], {
      cwd: root,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`redocly lint failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
    });
    const report = JSON.parse(stdout) as { totals: { errors: number } };
    expect(report.totals.errors).toBe(0);
  });

  it('passes Spectral (spectral:oas and the OWASP ruleset) with no error', async () => {
    const { stdout } = await run(bin('spectral'), ['lint', file, '--ruleset', join(root, '.spectral.yaml'), '--fail-severity', 'error', '--format', 'json', '--quiet'], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`spectral lint failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
    });
    const errors = (JSON.parse(stdout || '[]') as Array<{ severity: number }>).filter((result) => result.severity === 0);
    expect(errors).toEqual([]);
  });
});
