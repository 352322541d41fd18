import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, makeTelemetryFilterString, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Config } from '../src/config';
import { createMigratedDatabase, startScratchPostgres, type MigratedDatabase } from '../src/infra/scratch-postgres';
import { findTemporalCli } from '../src/infra/temporal-binaries';
import type { Logger } from '../src/logger';
import { SOURCE_KEY } from '../src/shared/search-attributes';
import { WORKFLOWS_PATH } from '../src/temporal/worker';

export interface PostgresServer {
  /** A fresh, migrated database of its own; drop() removes it (a 1M-row case leaves gigabytes behind). */
  createDatabase(name: string): Promise<MigratedDatabase>;
  embedded: boolean;
  stop(): Promise<void>;
}

/** DATABASE_URL's server if set, else a throw-away embedded PostgreSQL in a temp dir. */
export async function startPostgres(config: Config, log: Logger): Promise<PostgresServer> {
  const server = await startScratchPostgres(config, log);
  return { ...server, createDatabase: (name) => createMigratedDatabase(server.adminUrl, name) };
}

/** A Temporal dev server (the CLI, provisioned as for `npm test`) and the workflows bundled once. */
export async function startTemporal(
  config: Config,
  log: Logger,
): Promise<{ env: TestWorkflowEnvironment; bundle: WorkflowBundleWithSourceMap }> {
  // The worker's own warnings would drown the report.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
  const cli = await findTemporalCli(config, log);
  if (!cli) throw new Error('Temporal CLI missing: install Go, or set TEMPORAL_CLI_PATH');
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as never;
  const [env, bundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: cli }, searchAttributes: [SOURCE_KEY] },
    }),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet }),
  ]);
  return { env, bundle };
}

export interface SimulatorProcess {
  url: string;
  close(): Promise<void>;
}

/**
 * The market simulator in a process of its own (src/simulator/main.ts), as a real upstream would be: building
 * and serialising 100k coins then never runs on the worker's event loop. It still shares the machine's cores.
 */
export async function startSimulatorProcess(options: { coins: number; seed: number }): Promise<SimulatorProcess> {
  const main = resolve(__dirname, '..', 'src', 'simulator', 'main.ts');
  const child = spawn(
    process.execPath,
    [require.resolve('tsx/cli'), main, '--coins', String(options.coins), '--seed', String(options.seed), '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await firstLine(child);
  // The market ranks every coin once per tick, on the first request: done here, it stays off the pipeline's clock.
  await fetch(`${url}/__sim/health`).then((res) => res.arrayBuffer());
  return {
    url,
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function firstLine(child: ChildProcess): Promise<string> {
  if (!child.stdout) throw new Error('simulator has no stdout');
  const lines = createInterface({ input: child.stdout });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`simulator exited (code ${String(code)}) before printing its URL`);
  });
  const line = once(lines, 'line').then(([text]) => String(text).trim());
  try {
    return await Promise.race([line, exited]);
  } finally {
    lines.close();
    child.stdout.resume(); // nothing else is read from it; a full pipe must never block the child
    exited.catch(() => {});
  }
}
