'use strict';
// The bench's load generator is wrk: one C thread costs far less CPU than a Node load generator, which
// matters when it shares 2 cores with the server it measures. Installed with apt when missing (as root).
const { spawnSync } = require('node:child_process');

function hasWrk() {
  return spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status === 0;
}

function ensureWrk() {
  if (hasWrk()) return;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error('wrk is not installed and this is not root, so it cannot be installed here: run `sudo apt-get install -y wrk` (Debian/Ubuntu) and try again');
  }
  const command = 'apt-get update && apt-get install -y wrk';
  console.log(`wrk is not installed: running \`${command}\``);
  const result = spawnSync('sh', ['-c', command], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.status !== 0 || !hasWrk()) throw new Error(`\`${command}\` failed (exit ${result.status}); install wrk by hand and try again`);
}

module.exports = { ensureWrk };

if (require.main === module) ensureWrk();
