import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../../src/config';
import { onPath } from '../../src/infra/temporal-binaries';
import type { Logger } from '../../src/logger';

const run = promisify(execFile);

/** The Prometheus release whose promtool checks deploy/monitoring (its Go module is tagged v0.<major><minor>.<patch>). */
export const PROMETHEUS_VERSION = '3.16.0';
const MODULE_VERSION = 'v0.316.0';
const PROMTOOL_PACKAGE = 'github.com/prometheus/prometheus/cmd/promtool';

/**
 * promtool of PROMETHEUS_VERSION, found in this order: PROMTOOL_PATH, the cache outside the repo, a build with
 * Go from the module proxy into that cache (about 10 minutes once on two cores). Not a `promtool` on PATH:
 * unit-test results depend on the release (3.0 made range selections left-open). undefined without Go.
 *
 * `go install promtool@version` is refused (Prometheus's go.mod has exclude directives), so it is built inside
 * a throw-away module of its own, which `go get`s the release, and moved into the cache once complete.
 */
export async function findPromtool(config: Config, log: Logger): Promise<string | undefined> {
  const given = process.env.PROMTOOL_PATH;
  if (given && existsSync(given)) return given;
  const binary = cachedPromtool(config);
  if (existsSync(binary)) return binary;
  if (!onPath(config.binaries.searchPath, 'go')) return undefined;
  log.info({ module: `${PROMTOOL_PACKAGE}@${MODULE_VERSION}` }, 'building promtool with Go (first time only, about 10 minutes)');
  await mkdir(config.binaries.cacheDir, { recursive: true });
  const staging = await mkdtemp(join(config.binaries.cacheDir, 'build-'));
  const go = (args: string[]) =>
    run('go', args, { cwd: staging, env: { ...process.env, CGO_ENABLED: '0' }, maxBuffer: 64 * 1024 * 1024 });
  try {
    await go(['mod', 'init', 'kasparro-etl/promtool-build']);
    await go(['get', `${PROMTOOL_PACKAGE}@${MODULE_VERSION}`]);
    // The version stamp `promtool --version` prints, which a plain `go build` leaves empty.
    await go(['build', '-ldflags', `-X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION}`, '-o', 'promtool', PROMTOOL_PACKAGE]);
    await mkdir(join(binary, '..'), { recursive: true });
    await rename(join(staging, 'promtool'), binary);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return binary;
}

/** Where findPromtool builds promtool, and finds it later. */
export function cachedPromtool(config: Config): string {
  return join(config.binaries.cacheDir, `promtool-${PROMETHEUS_VERSION}`, 'promtool');
}
