#!/usr/bin/env node
// Builds the browser console (apps/console) into dist/console, which the API serves at /console:
//   1. the service's OpenAPI document, written from the app itself (dist/apps/api/src/write-openapi.js,
//      so `nest build` runs first; --openapi-ready skips this when the caller wrote it already);
//   2. its TypeScript types (openapi-typescript), which the console's API client is typed with;
//   3. tsc --noEmit on the console: a change of the API that the console does not follow fails here;
//   4. vite build.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const consoleDir = join(root, 'apps', 'console');
const documentFile = join(consoleDir, 'src', 'api', 'openapi.json');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: 'inherit' });

if (!process.argv.includes('--openapi-ready')) run(process.execPath, [join(root, 'dist', 'apps', 'api', 'src', 'write-openapi.js'), documentFile]);
run(bin('openapi-typescript'), [documentFile, '--output', join(consoleDir, 'src', 'api', 'openapi.d.ts')]);
run(bin('tsc'), ['-p', join(consoleDir, 'tsconfig.json'), '--noEmit']);
run(bin('vite'), ['build', '--config', join(consoleDir, 'vite.config.mts'), '--logLevel', 'warn']);
