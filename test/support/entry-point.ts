import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** How to run one of the real entry points (apps/api or apps/cli) as a process of its own. */
export interface EntryPoint {
  /** node arguments up to and including the script. */
  args: string[];
  how: string;
  /** Removes what the entry point needed on disk (the require hook and its cache). */
  cleanup(): void;
}

function newest(path: string): number {
  const stat = statSync(path);
  return stat.isDirectory() ? readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), 0) : stat.mtimeMs;
}

/**
 * The real entry point as a process: built JavaScript when dist/ is up to date, else the TypeScript
 * sources through a small require hook (TypeScript's transpileModule plus tsconfig-paths, both already
 * installed), since the tests cannot build. The hook keeps what it transpiled in its own folder, so the
 * second and later processes of a test file start without transpiling again.
 * `mustExist` names other built files whose presence shows dist/ is of this code (e.g. a newer module).
 */
export function entryPoint(app: 'api' | 'cli', mustExist: string[] = []): EntryPoint | { skip: string } {
  const distMain = join(ROOT, `dist/apps/${app}/src/main.js`);
  if (existsSync(distMain) && mustExist.every((file) => existsSync(join(ROOT, 'dist', file)))) {
    const sources = Math.max(...['apps', 'libs', 'migrations'].map((dir) => newest(join(ROOT, dir))));
    if (statSync(distMain).mtimeMs >= sources) return { args: [distMain], how: 'dist (up to date)', cleanup: () => undefined };
  }
  for (const needed of ['typescript', 'tsconfig-paths']) {
    if (!existsSync(join(ROOT, 'node_modules', needed))) return { skip: `dist/ is missing or older than the sources and ${needed} is not installed to run them` };
  }
  const hookDir = mkdtempSync(join(tmpdir(), 'mintline-hook-'));
  const hook = join(hookDir, 'register-ts.js');
  writeFileSync(
    hook,
    `const { existsSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { join } = require('node:path');
const root = ${JSON.stringify(ROOT)};
const cacheDir = ${JSON.stringify(hookDir)};
const ts = require(join(root, 'node_modules/typescript'));
const { compilerOptions } = require(join(root, 'tsconfig.json'));
require(join(root, 'node_modules/tsconfig-paths')).register({ baseUrl: root, paths: compilerOptions.paths });
const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, experimentalDecorators: true, emitDecoratorMetadata: true, esModuleInterop: true, sourceMap: false };
require.extensions['.ts'] = (module, filename) => {
  const cached = join(cacheDir, createHash('sha1').update(filename + ':' + statSync(filename).mtimeMs).digest('hex') + '.js');
  let output;
  if (existsSync(cached)) output = readFileSync(cached, 'utf8');
  else {
    output = ts.transpileModule(readFileSync(filename, 'utf8'), { compilerOptions: options, fileName: filename }).outputText;
    writeFileSync(cached, output);
  }
  module._compile(output, filename);
};
`,
  );
  return {
    args: ['-r', hook, join(ROOT, `apps/${app}/src/main.ts`)],
    how: 'sources via a transpile-only require hook (dist/ is missing or stale)',
    cleanup: () => rmSync(hookDir, { recursive: true, force: true }),
  };
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the entry point with these arguments and environment (PATH added) to its end. */
export function runEntryPoint(entry: EntryPoint, argv: string[], env: Record<string, string>): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry.args, ...argv], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
