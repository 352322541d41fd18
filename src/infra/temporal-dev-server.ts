import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger';
import { SOURCE_SEARCH_ATTRIBUTE } from '../shared/names';
import { waitForPort } from './temporal-binaries';

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/**
 * The Temporal CLI's dev server with its Web UI, state persisted under `dataDir` so runs and schedules survive a
 * restart. Its own log goes to our logger at warn level and above.
 */
export async function startTemporalDevServer(options: {
  cliPath: string;
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  log: Logger;
  /** Called with the server's pid as soon as it is spawned; it leads a process group of its own. */
  onSpawn?: (pid: number) => void;
}): Promise<DevServer> {
  await mkdir(options.dataDir, { recursive: true });
  const args = [
    'server', 'start-dev',
    '--db-filename', join(options.dataDir, 'temporal.db'),
    '--ip', '127.0.0.1',
    '--port', String(options.port),
    '--ui-port', String(options.uiPort),
    '--namespace', options.namespace,
    '--search-attribute', `${SOURCE_SEARCH_ATTRIBUTE}=Keyword`,
    '--log-level', 'warn',
    '--log-format', 'json',
  ];
  // Its own process group: the CLI signals its group when it stops, which must not reach us.
  const child: ChildProcess = spawn(options.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  const log = options.log.child({ component: 'temporal' });
  // stdout carries the start-up banner; stderr the server's own warnings and errors.
  child.stdout?.on('data', (chunk: Buffer) => forEachLine(chunk, (line) => log.debug(line)));
  child.stderr?.on('data', (chunk: Buffer) => forEachLine(chunk, (line) => log.warn(line)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([
    waitForPort(options.port, 60_000),
    exited.then(() => {
      throw new Error(`the Temporal dev server exited during start-up (is port ${options.port} taken?)`);
    }),
  ]);
  await waitForPort(options.uiPort, 30_000);
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: `http://127.0.0.1:${options.uiPort}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function forEachLine(chunk: Buffer, write: (line: string) => void): void {
  for (const line of chunk.toString().split('\n')) if (line.trim()) write(line);
}
