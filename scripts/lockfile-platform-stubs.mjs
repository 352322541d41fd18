#!/usr/bin/env node
// The npm registry this project is built against does not serve every platform's prebuilt binary (for
// example @swc/core-darwin-arm64). `npm install` then leaves those optional dependencies out of
// package-lock.json, and `npm ci` refuses the lockfile as "missing" them. This adds an entry for each, with
// the os/cpu its name states, so `npm ci` skips them on this platform as it skips any foreign binary.
// Run after changing dependencies: `npm install && node scripts/lockfile-platform-stubs.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openharmony', 'sunos', 'aix', 'netbsd', 'openbsd'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'wasm32'];

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const added = [];
for (const [where, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key] || lock.packages[`${where}/${key}`]) continue;
    const parts = name.split('/').pop().split('-');
    const os = parts.find((p) => OS.includes(p));
    const cpu = parts.find((p) => CPU.includes(p));
    if (!os || !cpu) throw new Error(`${name}: cannot tell its platform from its name; add it by hand`);
    lock.packages[key] = { version, optional: true, os: [os], cpu: [cpu], ...(entry.dev ? { dev: true } : {}) };
    added.push(name);
  }
}
if (added.length > 0) {
  lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
}
console.log(added.length ? `added ${added.length} platform stubs: ${added.join(', ')}` : 'lockfile complete');
