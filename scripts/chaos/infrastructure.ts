import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../../src/config';
import { findTemporalCli, freeStablePort } from '../../src/infra/temporal-binaries';
import { startTemporalDevServer, type DevServer } from '../../src/infra/temporal-dev-server';
import type { Logger } from '../../src/logger';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { writeCsvFixture } from '../../bench/csv-fixture';
import { startPostgresProcess, type PostgresProcess } from '../../test/support/postgres-process';
import { bundleWorkflows } from '../../test/support/temporal';
import type { Teardown } from '../teardown';

/** The market: enough listings for about 14 batches per API source, few enough that a clean run takes seconds. */
export const COINS = 1_500;
const SEED = 5;
/** CSV rows: 375 coins × 4 snapshots, then a few rows no contract takes, so that quarantine is compared too. */
const CSV_SHAPE = { ids: 375, snapshots: 4 };
const CSV_INVALID_ROWS = ['bad-1,BAD,Bad Coin,not a price,,,,,2026-01-01T00:00:00Z', 'bad-2,,No Symbol,1.5,,,,,2026-01-01T00:00:00Z'];

/**
 * What every scenario shares and some of them break: a PostgreSQL server the system does not own (in a process
 * of its own, restartable on its data), a Temporal dev server with its state on disk, the market simulator for
 * both HTTP sources and the CSV file, each on a fixed port or path so that it comes back where it was.
 */
export interface ChaosInfrastructure {
  /** The maintenance database's URL: scenarios create their own databases on the server. */
  adminUrl: string;
  temporalAddress: string;
  client: Client;
  csvPath: string;
  /** The environment every process of the system gets: sources, batch sizes, the workflow bundle. */
  settings: Record<string, string>;
  /** A fast shutdown of the external server, and a start on the same data and port. */
  restartPostgres(): Promise<void>;
  /** SIGTERM to the dev server, and a start on the same state file and port. */
  restartTemporal(): Promise<void>;
  /** Both APIs refuse connections and the CSV file is gone, for `ms`; then all are back, unchanged. */
  cutUpstream(ms: number): Promise<void>;
}

export async function startChaosInfrastructure(boot: Readonly<Config>, dir: string, log: Logger, teardown: Teardown): Promise<ChaosInfrastructure> {
  const pgDir = join(dir, 'postgres');
  const pgPort = await freeStablePort();
  let pg: PostgresProcess = await startPostgresProcess(pgDir, pgPort);
  teardown.add('PostgreSQL', () => pg.stop());
  const adminUrl = Object.assign(new URL(pg.url), { pathname: '/postgres' }).toString();

  const cliPath = await findTemporalCli(boot, log);
  if (!cliPath) throw new Error('no Temporal CLI: install Go (it is built once), put `temporal` on PATH, or set TEMPORAL_CLI_PATH');
  const devServer = {
    cliPath, dataDir: join(dir, 'temporal'), port: await freeStablePort(), uiPort: await freeStablePort(), namespace: boot.temporal.namespace, log,
  };
  let temporal: DevServer = await startTemporalDevServer(devServer);
  teardown.add('Temporal dev server', () => temporal.stop());
  const connection = await Connection.connect({ address: temporal.address });
  teardown.add('Temporal client', () => connection.close());
  const client = new Client({ connection, namespace: boot.temporal.namespace });

  const simulatorOptions = { coins: COINS, seed: SEED, port: await freeStablePort() };
  let simulator: Simulator = await startSimulator(simulatorOptions);
  teardown.add('simulator', () => simulator.close());

  const csvPath = join(dir, 'coins.csv');
  await writeCsvFixture(csvPath, CSV_SHAPE);
  await writeFile(csvPath, `${CSV_INVALID_ROWS.join('\n')}\n`, { flag: 'a' });

  // Bundled once: each worker process would otherwise spend seconds of the two cores on webpack.
  const bundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(bundlePath, (await bundleWorkflows()).code);

  return {
    adminUrl,
    temporalAddress: temporal.address,
    client,
    csvPath,
    settings: {
      COINGECKO_BASE_URL: simulator.url,
      COINPAPRIKA_BASE_URL: simulator.url,
      COINGECKO_RATE_LIMIT_PER_MIN: '100000',
      COINPAPRIKA_RATE_LIMIT_PER_MIN: '100000',
      COINGECKO_PAGE_SIZE: '100',
      COINPAPRIKA_PAGE_SIZE: '100',
      CSV_PATH: csvPath,
      CSV_PAGE_SIZE: '100',
      ETL_BATCH_SIZE: '100',
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: boot.temporal.namespace,
      TEMPORAL_WORKFLOW_BUNDLE: bundlePath,
      // Schedules fire on wall-clock multiples of their interval: none during a scenario.
      SCHEDULE_INTERVAL_COINGECKO: '1000d',
      SCHEDULE_INTERVAL_COINPAPRIKA: '1000d',
      SCHEDULE_INTERVAL_CSV: '1000d',
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
    },
    async restartPostgres() {
      await pg.stop();
      pg = await startPostgresProcess(pgDir, pgPort);
    },
    async restartTemporal() {
      await temporal.stop();
      temporal = await startTemporalDevServer(devServer);
    },
    async cutUpstream(ms) {
      await simulator.close();
      await rename(csvPath, `${csvPath}.away`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      await rename(`${csvPath}.away`, csvPath);
      simulator = await startSimulator(simulatorOptions);
    },
  };
}
