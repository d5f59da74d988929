import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { offlineOpenApiDocument } from '../../apps/api/src/write-openapi';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const consoleSources = join(root, 'apps', 'console');
const documentFile = join(consoleSources, 'src', 'api', 'openapi.json');
const typesFile = join(consoleSources, 'src', 'api', 'openapi.d.ts');
export const CONSOLE_DIST = join(root, 'dist', 'console');
const lockDir = join(root, 'node_modules', '.cache', 'mintline-console-build.lock');

function newestSource(path: string): number {
  if (path === documentFile || path === typesFile) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestSource(join(path, name))), 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function withLock<T>(work: () => Promise<T>): Promise<T> {
  mkdirSync(join(root, 'node_modules', '.cache'), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch {
      // Another test file (another jest worker) builds; a lock older than 5 minutes was left by a killed run.
      if (existsSync(lockDir) && Date.now() - statSync(lockDir).mtimeMs > 5 * 60_000) rmdirSync(lockDir);
      if (Date.now() > deadline) throw new Error('the console build lock was not released');
      await sleep(500);
    }
  }
  try {
    return await work();
  } finally {
    rmdirSync(lockDir);
  }
}

/**
 * Makes sure dist/console holds the console built against the API as it is now, as `npm run build` would
 * build it (scripts/build-console.js: types from the OpenAPI document, tsc --noEmit, vite build). The
 * document is made here in-process (no `nest build` needed); when it and the console's sources are
 * unchanged since the last build, nothing is rebuilt. Safe to call from several test files at once.
 */
export async function ensureConsoleBuilt(): Promise<void> {
  const document = `${JSON.stringify(await offlineOpenApiDocument(), null, 2)}\n`;
  await withLock(async () => {
    const index = join(CONSOLE_DIST, 'index.html');
    const sameDocument = existsSync(documentFile) && readFileSync(documentFile, 'utf8') === document;
    const fresh = existsSync(index) && existsSync(typesFile) && statSync(index).mtimeMs > newestSource(consoleSources);
    if (sameDocument && fresh) return;
    writeFileSync(documentFile, document);
    await run(process.execPath, [join(root, 'scripts', 'build-console.js'), '--openapi-ready'], { cwd: root, maxBuffer: 16 * 1024 * 1024 }).catch(
      (error: { stdout?: string; stderr?: string }) => {
        throw new Error(`the console did not build:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
      },
    );
  });
}
