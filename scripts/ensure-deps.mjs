// `npm start` on a fresh clone: install the locked dependencies first when node_modules is missing or older than
// package-lock.json (npm ci writes node_modules/.package-lock.json). Plain Node, since nothing is installed yet.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mtime = (path) => {
  try {
    return statSync(join(root, path)).mtimeMs;
  } catch {
    return undefined;
  }
};
const installed = mtime('node_modules/.package-lock.json');
if (installed === undefined || installed < (mtime('package-lock.json') ?? 0)) {
  console.error(installed === undefined ? 'installing dependencies (npm ci)…' : 'package-lock.json changed: reinstalling (npm ci)…');
  const npm = spawnSync('npm', ['ci', '--no-fund', '--no-audit'], { cwd: root, stdio: 'inherit' });
  if (npm.status !== 0) process.exit(npm.status ?? 1);
}
