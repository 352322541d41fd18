import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startApi } from '../../src/bin/api';
import { announceChildProcess } from '../../src/bin/process-group';
import { startWorker } from '../../src/bin/worker';
import { loadConfig, type Config } from '../../src/config';
import type { Sql } from '../../src/db/sql';
import { startEmbeddedPostgres } from '../../src/infra/embedded-postgres';
import { createMigratedDatabase } from '../../src/infra/scratch-postgres';
import { findTemporalCli, freePort } from '../../src/infra/temporal-binaries';
import { startTemporalDevServer } from '../../src/infra/temporal-dev-server';
import type { Logger } from '../../src/logger';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import type { Teardown } from '../teardown';

/** The system the fuzzer talks to, as `npm start -- --demo` composes it, on free ports and throw-away state. */
export interface FuzzStack {
  config: Readonly<Config>;
  sql: Sql;
  client: Client;
  simulator: Simulator;
  /** Base URL of the API, e.g. http://127.0.0.1:41234. */
  apiUrl: string;
  /** The API_KEY the API was started with: every POST needs it. */
  apiKey: string;
}

/**
 * The market simulator, PostgreSQL (DATABASE_URL's server, else an embedded one in a temp dir) with a fresh
 * migrated database, a Temporal dev server, a worker and the HTTP API with an API key, each through the same
 * function `npm start` uses. The servers are announced to the supervisor (runInOwnProcessGroup), which stops
 * them should this process die without doing so.
 */
export async function startFuzzStack(boot: Readonly<Config>, log: Logger, teardown: Teardown, coins: number): Promise<FuzzStack> {
  const simulator = await startSimulator({ coins, seed: 11 });
  teardown.add('simulator', () => simulator.close());

  const adminUrl = boot.databaseUrl ?? (await embeddedPostgres(log, teardown));
  const db = await createMigratedDatabase(adminUrl, `fuzz_api_${randomBytes(4).toString('hex')}`, 10);
  teardown.add('database', () => db.drop());

  const cliPath = await findTemporalCli(boot, log);
  if (!cliPath) throw new Error('no Temporal CLI: install Go (it is built once), put `temporal` on PATH, or set TEMPORAL_CLI_PATH');
  const temporalDir = await mkdtemp(join(tmpdir(), 'kasparro-fuzz-temporal-'));
  teardown.add('Temporal state', () => rm(temporalDir, { recursive: true, force: true }));
  const server = await startTemporalDevServer({
    cliPath, dataDir: temporalDir, port: await freePort(), uiPort: await freePort(), namespace: boot.temporal.namespace, log,
    onSpawn: (pid) => announceChildProcess('Temporal dev server', pid, 'SIGTERM', { group: true }),
  });
  teardown.add('Temporal dev server', () => server.stop());

  const apiKey = randomBytes(16).toString('hex');
  const config = loadConfig(process.env, {
    DATABASE_URL: db.url,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_WEB_UI_URL: server.uiUrl,
    COINGECKO_BASE_URL: simulator.url,
    COINPAPRIKA_BASE_URL: simulator.url,
    COINGECKO_RATE_LIMIT_PER_MIN: '100000',
    COINPAPRIKA_RATE_LIMIT_PER_MIN: '100000',
    CSV_PATH: resolve(__dirname, '..', '..', 'data', 'coins.csv'),
    // Small batches: runs of several batches, with progress to show while they are in flight.
    ETL_BATCH_SIZE: '100',
    API_HOST: '127.0.0.1',
    API_PORT: String(await freePort()),
    API_KEY: apiKey,
  });

  const connection = await Connection.connect({ address: server.address });
  teardown.add('Temporal client', () => connection.close());
  const client = new Client({ connection, namespace: config.temporal.namespace });

  const worker = await startWorker(config, db.sql, log);
  const running = worker.run();
  teardown.add('worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });

  const api = await startApi(config, db.sql, client, log);
  teardown.add('API', () => api.close());
  return { config, sql: db.sql, client, simulator, apiUrl: api.url, apiKey };
}

async function embeddedPostgres(log: Logger, teardown: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kasparro-fuzz-pg-'));
  teardown.add('PostgreSQL data', () => rm(dir, { recursive: true, force: true }));
  const pg = await startEmbeddedPostgres({ dir, port: await freePort(), database: 'postgres', log });
  announceChildProcess('PostgreSQL', pg.pid, 'SIGINT', { pidFile: pg.pidFile });
  teardown.add('PostgreSQL', () => pg.stop());
  return pg.adminUrl;
}
