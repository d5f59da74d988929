#!/usr/bin/env node
// `npm start` and `npm run cli` build first when dist/ is missing or older than any source file.
const { execSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const stamp = join(root, 'dist', 'apps', 'api', 'src', 'main.js');
const sources = ['apps', 'libs', 'migrations', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), 0);
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const newest = Math.max(...sources.map((source) => newestMtime(join(root, source))));
if (newest > built) {
  process.stderr.write('Building Mintline (sources changed since the last build)...\n');
  execSync('npm run build --silent', { cwd: root, stdio: 'inherit' });
}
