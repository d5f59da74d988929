'use strict';
// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by package, by file and by function,
// so a bench run says where the service's CPU goes. Also usable alone:
//   node bench/cpu-profile.js PROFILE.cpuprofile [TOP [FROM_MS TO_MS]]
// FROM_MS..TO_MS keeps only the samples in that window, counted from the start of the profile.
const { readFileSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');

/** Self time in ms per node id, from the sample timeline (more exact than hitCount × interval). */
function selfTimes(profile, fromMs = 0, toMs = Infinity) {
  const self = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  let at = 0;
  // timeDeltas[i] is the time before sample i; attribute the gap after a sample to it.
  for (let i = 0; i < samples.length; i += 1) {
    at += (timeDeltas[i] ?? 0) / 1000;
    if (at < fromMs || at > toMs) continue;
    const ms = (timeDeltas[i + 1] ?? 0) / 1000;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + ms);
  }
  return self;
}

/** Where a script url belongs: an npm package, Node's own code, V8's pseudo-frames, or Mintline's dist/. */
function classify(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  if (file.startsWith('node:') || !file.startsWith('/')) return 'node (core)';
  const modules = file.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = file.slice(modules + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const relative = path.relative(ROOT, file);
  const inDist = /^dist\/(apps|libs)\/([^/]+)\//.exec(relative);
  if (inDist) return `mintline ${inDist[1]}/${inDist[2]}`;
  return relative.startsWith('..') ? file : `mintline ${relative.split('/').slice(0, 2).join('/')}`;
}

function shortFile(url) {
  if (!url) return '';
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const modules = file.lastIndexOf('/node_modules/');
  if (modules >= 0) return file.slice(modules + '/node_modules/'.length);
  return file.startsWith('/') ? path.relative(ROOT, file) : file;
}

function summarise(profile, fromMs, toMs) {
  const self = selfTimes(profile, fromMs, toMs);
  const byPackage = new Map();
  const byFile = new Map();
  const byFunction = new Map();
  let total = 0;
  const add = (map, key, ms) => map.set(key, (map.get(key) ?? 0) + ms);
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (!ms) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const pkg = classify(url, functionName);
    total += ms;
    // The event loop waiting is not work; the shares below are of the busy time.
    if (name === '(idle)') continue;
    add(byPackage, pkg, ms);
    if (url) add(byFile, `${shortFile(url)}  [${pkg}]`, ms);
    add(byFunction, url ? `${name}  ${shortFile(url)}:${lineNumber + 1}` : name, ms);
  }
  return { total, byPackage, byFile, byFunction };
}

function format({ total, byPackage, byFile, byFunction }, top = 15) {
  const busy = [...byPackage.values()].reduce((sum, ms) => sum + ms, 0);
  const table = (title, map) => {
    const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
    return [`${title}:`, ...rows.map(([key, ms]) => `  ${((100 * ms) / busy).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(7)} ms  ${key}`)];
  };
  return [
    `CPU profile: ${(total / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (the rest idle); self time as a share of busy time`,
    ...table('By package', byPackage),
    ...table('By file', byFile),
    ...table('By function', byFunction),
  ].join('\n');
}

function summariseFile(file, { top = 15, fromMs, toMs } = {}) {
  return format(summarise(JSON.parse(readFileSync(file, 'utf8')), fromMs, toMs), top);
}

module.exports = { summariseFile };

if (require.main === module) {
  if (!process.argv[2]) {
    console.error('usage: node bench/cpu-profile.js PROFILE.cpuprofile [TOP [FROM_MS TO_MS]]');
    process.exit(2);
  }
  const [file, top = 15, fromMs, toMs] = process.argv.slice(2);
  console.log(summariseFile(file, { top: Number(top), fromMs: fromMs && Number(fromMs), toMs: toMs && Number(toMs) }));
}
