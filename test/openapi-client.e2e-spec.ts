import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as ts from 'typescript';
import { SINCH_APP } from './support/call-tokens';
import { startTestApp, TestApp } from './support/test-app';

const run = promisify(execFile);
const root = join(__dirname, '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const tourSource = join(__dirname, 'openapi-client', 'tour.mts');

/** Casts and non-null assertions in the client would hide exactly the gaps this test looks for. */
function castsIn(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node) || ts.isNonNullExpression(node) || ts.isSatisfiesExpression(node)) {
      found.push(node.getText(source));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * A client generated from the served document (openapi-typescript types, openapi-fetch calls) drives the
 * README's tour under strict tsc without a single cast, and reads an error's code as a typed field.
 */
describe('generated OpenAPI client', () => {
  let app: TestApp;
  let dir: string;

  beforeAll(async () => {
    app = await startTestApp();
    // Inside node_modules so that the compiled client resolves openapi-fetch and @types/node from the repo.
    const cache = join(root, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    dir = mkdtempSync(join(cache, 'mintline-openapi-client-'));
    const answer = await fetch(`${app.url}/docs/openapi.json`);
    writeFileSync(join(dir, 'openapi.json'), await answer.text());
    copyFileSync(tourSource, join(dir, 'tour.mts'));
  });

  afterAll(async () => {
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('has no casts in the client', () => {
    expect(castsIn(tourSource)).toEqual([]);
  });

  it('generates types that a strict tsc accepts for the tour, which then runs against the service', async () => {
    await run(bin('openapi-typescript'), [join(dir, 'openapi.json'), '--output', join(dir, 'mintline-api.d.mts')], { cwd: root });
    const compile = [
      '--strict',
      '--noUncheckedIndexedAccess',
      '--exactOptionalPropertyTypes',
      '--skipLibCheck',
      '--target',
      'es2022',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--types',
      'node',
      '--outDir',
      dir,
      join(dir, 'tour.mts'),
    ];
    await run(bin('tsc'), compile, { cwd: dir }).catch((error: { stdout?: string }) => {
      throw new Error(`tsc refused the tour against the generated types:\n${error.stdout ?? ''}`);
    });

    const { stdout } = await run(process.execPath, [join(dir, 'tour.mjs'), app.url, app.operatorToken, SINCH_APP.applicationKey, SINCH_APP.applicationSecret], {
      cwd: dir,
    });
    const tour = JSON.parse(stdout);
    expect(tour).toMatchObject({
      credentialsProvider: 'sinch-voice',
      maskedSecret: `••••${SINCH_APP.applicationSecret.slice(-4)}`,
      agentTokenUserId: tour.agentId,
      agentTokenExpiresIn: 600,
      keyTokenUserId: tour.agentId,
      verifyOk: true,
      refusedStatus: 403,
      refusedCode: 'MISSING_SCOPE',
    });
    expect(tour.auditOutcomes).toEqual(['sinch:issued', 'sinch:issued']);
    expect(tour.verifyChecked).toBeGreaterThanOrEqual(2);
  });
});
