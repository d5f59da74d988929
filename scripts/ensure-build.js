#!/usr/bin/env node
// `npm start` and `npm run cli` build first when dist/ is missing or older than any source file.
const { execSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
// The API and the console it serves (scripts/build-console.js): the older of the two counts.
const stamps = [join(root, 'dist', 'apps', 'api', 'src', 'main.js'), join(root, 'dist', 'console', 'index.html')];
const sources = ['apps', 'libs', 'migrations', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

// Written by the build itself (the console's OpenAPI document and types): not sources.
const generated = new Set([join(root, 'apps', 'console', 'src', 'api', 'openapi.json'), join(root, 'apps', 'console', 'src', 'api', 'openapi.d.ts')]);

function newestMtime(path) {
  if (generated.has(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), 0);
}

const built = Math.min(...stamps.map((stamp) => (existsSync(stamp) ? statSync(stamp).mtimeMs : 0)));
const newest = Math.max(...sources.map((source) => newestMtime(join(root, source))));
if (newest > built) {
  process.stderr.write('Building Mintline (sources changed since the last build)...\n');
  execSync('npm run build --silent', { cwd: root, stdio: 'inherit' });
}
