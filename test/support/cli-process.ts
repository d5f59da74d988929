import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

let entry: string[] | undefined;

/**
 * What `npm run cli` runs, as a child process: dist/apps/cli/src/main.js when the build is newer than
 * every source, else the TypeScript entry through a transpile-only require hook (TypeScript's
 * transpileModule and tsconfig-paths, both installed), because a test must not rebuild dist/ under the
 * feet of others.
 */
function cliEntry(): string[] {
  if (entry) return entry;
  const distMain = join(ROOT, 'dist/apps/cli/src/main.js');
  const newest = (path: string): number => {
    const stat = statSync(path);
    return stat.isDirectory() ? readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), 0) : stat.mtimeMs;
  };
  if (existsSync(distMain) && statSync(distMain).mtimeMs >= Math.max(...['apps', 'libs', 'migrations'].map((dir) => newest(join(ROOT, dir))))) {
    entry = [distMain];
    return entry;
  }
  const hook = join(mkdtempSync(join(tmpdir(), 'mintline-cli-hook-')), 'register-ts.js');
  writeFileSync(
    hook,
    `const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const root = ${JSON.stringify(ROOT)};
const ts = require(join(root, 'node_modules/typescript'));
const { compilerOptions } = require(join(root, 'tsconfig.json'));
require(join(root, 'node_modules/tsconfig-paths')).register({ baseUrl: root, paths: compilerOptions.paths });
const options = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, experimentalDecorators: true, emitDecoratorMetadata: true, esModuleInterop: true, sourceMap: false };
require.extensions['.ts'] = (module, filename) => {
  module._compile(ts.transpileModule(readFileSync(filename, 'utf8'), { compilerOptions: options, fileName: filename }).outputText, filename);
};
`,
  );
  entry = ['-r', hook, join(ROOT, 'apps/cli/src/main.ts')];
  return entry;
}

/** Runs `npm run cli -- <args>` (without the build step) and answers its exit code and output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...cliEntry(), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}
