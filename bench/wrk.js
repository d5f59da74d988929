'use strict';
// Runs wrk with the bench's settings and returns what its Lua done() printed (see wrk/report.lua).
const { spawn } = require('node:child_process');
const path = require('node:path');

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 50);
const SCRIPTS = path.join(__dirname, 'wrk');

/** `script` is a file in bench/wrk/; `args` reach its init(args) after wrk's `--`. */
function runWrk(url, { seconds, script, args = [], connections = CONNECTIONS }) {
  const argv = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', path.join(SCRIPTS, script), url, '--', ...args];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (code !== 0 || !line) {
        reject(new Error(`wrk ${argv.join(' ')} failed (exit ${code}):\n${out}${err}`));
        return;
      }
      const result = JSON.parse(line.slice('WRK_JSON '.length));
      resolve({ ...result, rps: result.requests / result.seconds, errors: result.non2xx + result.socketErrors });
    });
  });
}

/** The wrk settings every run uses, for the report. */
function wrkSettings() {
  return `wrk -t1 -c${CONNECTIONS} -d<seconds>s --latency`;
}

module.exports = { runWrk, wrkSettings, CONNECTIONS };
