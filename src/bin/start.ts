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
import { bootstrapEtl } from './bootstrap';
import { runInOwnProcessGroup } from './process-group';
import { onShutdownSignal } from './signals';
import { startWorker } from './worker';

async function main(): Promise<void> {
  if ((await runInOwnProcessGroup()) === 'supervisor') return;
  const { values } = parseArgs({ options: { demo: { type: 'boolean', default: false } } });
  const boot = loadConfig();
  const log = createLogger({ level: boot.log.level, pretty: boot.log.pretty, name: 'kasparro-etl' });
  const stops: Stop[] = [];
  try {
    await run(values.demo ?? false, boot, log, stops);
  } finally {
    for (const [name, stop] of stops.reverse()) {
      log.info(`stopping ${name}`);
      await stop().catch((err: unknown) => log.warn({ err }, `while stopping ${name}`));
    }
    log.info('stopped');
  }
}

type Stop = [name: string, stop: () => Promise<void>];

async function run(demo: boolean, boot: Config, log: Logger, stops: Stop[]): Promise<void> {
  const overrides: Record<string, string> = {};

  if (demo) {
    const simulator = await startSimulator({ port: boot.simulator.port, coins: boot.simulator.coins });
    stops.push(['simulator', () => simulator.close()]);
    Object.assign(overrides, { COINGECKO_BASE_URL: simulator.url, COINPAPRIKA_BASE_URL: simulator.url });
    log.info({ url: simulator.url, coins: boot.simulator.coins }, 'demo: market simulator stands in for CoinGecko and CoinPaprika');
  }
  if (!boot.databaseUrl) {
    const pg = await startEmbeddedPostgres({ dir: join(boot.dataDir, 'postgres'), port: boot.embeddedPostgresPort, log });
    stops.push(['PostgreSQL', () => pg.stop()]);
    overrides.DATABASE_URL = pg.url;
  }
  let uiUrl: string | undefined;
  if (!boot.temporal.address) {
    const cliPath = await findTemporalCli(boot, log);
    if (!cliPath) throw new Error('no Temporal CLI: install Go (it is built once), put `temporal` on PATH, or set TEMPORAL_ADDRESS');
    const server = await startTemporalDevServer({
      cliPath, dataDir: join(boot.dataDir, 'temporal'), port: boot.temporal.devPort, uiPort: boot.temporal.uiPort,
      namespace: boot.temporal.namespace, log,
    });
    stops.push(['Temporal dev server', () => server.stop()]);
    overrides.TEMPORAL_ADDRESS = server.address;
    uiUrl = server.uiUrl;
  }

  const config = loadConfig(undefined, overrides);
  const sql = createSql(config.databaseUrl as string);
  stops.push(['database pool', () => sql.end()]);
  await migrate(sql);
  const connection = await Connection.connect({ address: config.temporal.address as string });
  stops.push(['Temporal client', () => connection.close()]);
  const client = new Client({ connection, namespace: config.temporal.namespace });

  const worker = await startWorker(config, sql, log);
  const running = worker.run();
  onShutdownSignal(() => worker.shutdown()); // in-flight activities are cancelled and retried after a restart
  stops.push([
    'worker',
    async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  ]);
  await bootstrapEtl(config, client, connection, log);
  const api = await startApi(config, sql, client, log);
  stops.push(['API', () => api.close()]);
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
