/**
 * `npm start`: the whole system in one process tree on embedded defaults. PostgreSQL (embedded unless
 * DATABASE_URL), the Temporal dev server with its Web UI (unless TEMPORAL_ADDRESS), migrations, search
 * attributes, a worker, the schedules and a first run of every source. `--demo` points the sources at the
 * built-in market simulator, so everything works offline. Ctrl-C stops it all; state persists under DATA_DIR.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, type Config } from '../config';
import { migrate } from '../db/migrate';
import { createSql } from '../db/sql';
import { startEmbeddedPostgres } from '../infra/embedded-postgres';
import { findTemporalCli } from '../infra/temporal-binaries';
import { startTemporalDevServer } from '../infra/temporal-dev-server';
import { createLogger, type Logger } from '../logger';
import { startSimulator } from '../simulator/server';
import { startApi } from './api';
import { bootstrapEtl, bootstrapRetryingTransient } from './bootstrap';
import { announceChildProcess, runInOwnProcessGroup } from './process-group';
import { onShutdownSignal } from './signals';
import { startWorker } from './worker';

async function main(): Promise<void> {
  if ((await runInOwnProcessGroup()) === 'supervisor') return;
  const { values } = parseArgs({ options: { demo: { type: 'boolean', default: false } } });
  const boot = loadConfig();
  const log = createLogger({ level: boot.log.level, pretty: boot.log.pretty, name: 'kasparro-etl' });
  const started = new Started();
  // From the first moment: a Ctrl-C during start-up stops what has started so far, in order.
  onShutdownSignal(() => started.stopping.abort());
  try {
    await run(values.demo ?? false, boot, log, started);
  } catch (err) {
    if (!started.stopping.signal.aborted) throw err;
  } finally {
    await started.stopAll(log);
  }
}

/** What has started, to be stopped in reverse order. Once shutdown is asked for, starting anything more throws. */
class Started {
  readonly stopping = new AbortController();
  private readonly stops: [name: string, stop: () => Promise<void>][] = [];

  add(name: string, stop: () => Promise<void>): void {
    this.stops.push([name, stop]);
    this.stopping.signal.throwIfAborted();
  }

  async stopAll(log: Logger): Promise<void> {
    for (const [name, stop] of this.stops.reverse()) {
      log.info(`stopping ${name}`);
      await stop().catch((err: unknown) => log.warn({ err }, `while stopping ${name}`));
    }
    log.info('stopped');
  }
}

async function run(demo: boolean, boot: Config, log: Logger, started: Started): Promise<void> {
  const overrides: Record<string, string> = {};

  if (demo) {
    const simulator = await startSimulator({ port: boot.simulator.port, coins: boot.simulator.coins });
    started.add('simulator', () => simulator.close());
    Object.assign(overrides, { COINGECKO_BASE_URL: simulator.url, COINPAPRIKA_BASE_URL: simulator.url });
    log.info({ url: simulator.url, coins: boot.simulator.coins }, 'demo: market simulator stands in for CoinGecko and CoinPaprika');
  }
  if (!boot.databaseUrl) {
    const pg = await startEmbeddedPostgres({ dir: join(boot.dataDir, 'postgres'), port: boot.embeddedPostgresPort, log });
    started.add('PostgreSQL', () => pg.stop());
    announceChildProcess('PostgreSQL', pg.pid, 'SIGINT', { pidFile: pg.pidFile }); // SIGINT: PostgreSQL's fast shutdown
    overrides.DATABASE_URL = pg.url;
  }
  let uiUrl: string | undefined;
  if (!boot.temporal.address) {
    const cliPath = await findTemporalCli(boot, log);
    if (!cliPath) throw new Error('no Temporal CLI: install Go (it is built once), put `temporal` on PATH, or set TEMPORAL_ADDRESS');
    const server = await startTemporalDevServer({
      cliPath, dataDir: join(boot.dataDir, 'temporal'), port: boot.temporal.devPort, uiPort: boot.temporal.uiPort,
      namespace: boot.temporal.namespace, log,
      onSpawn: (pid) => announceChildProcess('Temporal dev server', pid, 'SIGTERM', { group: true }),
    });
    started.add('Temporal dev server', () => server.stop());
    overrides.TEMPORAL_ADDRESS = server.address;
    uiUrl = server.uiUrl;
  }

  const config = loadConfig(undefined, overrides);
  const sql = createSql(config.databaseUrl as string);
  started.add('database pool', () => sql.end());
  await migrate(sql);
  const connection = await Connection.connect({ address: config.temporal.address as string });
  started.add('Temporal client', () => connection.close());
  const client = new Client({ connection, namespace: config.temporal.namespace });

  const worker = await startWorker(config, sql, log);
  const running = worker.run();
  started.add('worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  // In-flight activities are cancelled and retried after a restart.
  started.stopping.signal.addEventListener('abort', () => worker.getState() === 'RUNNING' && worker.shutdown(), { once: true });
  await bootstrapRetryingTransient(() => bootstrapEtl(config, client, connection, log), log, started.stopping.signal);
  started.stopping.signal.throwIfAborted();
  const api = await startApi(config, sql, client, log);
  started.add('API', () => api.close());
  log.info(
    { api: api.url, docs: `${api.url}/docs`, temporalWebUi: uiUrl ?? config.api.webUiUrl },
    'kasparro-etl is up; Ctrl-C stops it',
  );

  await running;
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    console.error(err instanceof Error && err.name === 'ConfigError' ? err.message : err);
    process.exit(1);
  },
);
