import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { loadConfig, type Config } from '../../src/config';
import type { Sql } from '../../src/db/sql';
import { createSources, type Sources } from '../../src/sources';
import type { FailureInjection } from '../../src/shared/types';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { testLogger } from './logger';

export interface Harness {
  config: Config;
  /** The environment the config was loaded from, for processes that must be configured alike. */
  settings: Record<string, string>;
  sources: Sources;
  simulator: Simulator;
  csvPath: string;
  taskQueue: string;
  /** Runs `body` with a worker polling the harness's task queue. */
  withWorker<T>(body: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

let queues = 0;

/**
 * The real pipeline against test infrastructure: the market simulator for the HTTP sources, a CSV file of the
 * test's own, a real database and a real Temporal server. Nothing is mocked.
 */
export async function createHarness(options: {
  env: TestWorkflowEnvironment;
  sql: Sql;
  bundle: WorkflowBundleWithSourceMap;
  coins?: number;
  csv?: string;
  settings?: Record<string, string>;
  /** The worker's ETL_FAIL_AFTER_N_RECORDS default. */
  defaultFailure?: FailureInjection;
}): Promise<Harness> {
  const simulator = await startSimulator({ coins: options.coins ?? 600, seed: 7 });
  const dir = await mkdtemp(join(tmpdir(), 'kasparro-csv-'));
  const csvPath = join(dir, 'coins.csv');
  await writeFile(csvPath, options.csv ?? 'id,symbol,name,price_usd,last_updated\nbtc,BTC,Bitcoin,"$64,000.50",2026-01-01T00:00:00Z\n');
  const settings = {
    COINGECKO_BASE_URL: simulator.url,
    COINPAPRIKA_BASE_URL: simulator.url,
    COINGECKO_RATE_LIMIT_PER_MIN: '100000',
    COINPAPRIKA_RATE_LIMIT_PER_MIN: '100000',
    COINPAPRIKA_PAGE_SIZE: '250',
    CSV_PATH: csvPath,
    CSV_PAGE_SIZE: '100',
    ETL_BATCH_SIZE: '250',
    ...options.settings,
  };
  const config = loadConfig(settings);
  const sources = createSources(config.sources);
  const taskQueue = `test-${process.pid}-${++queues}`;
  const activities = createActivities({
    sql: options.sql,
    sources,
    log: testLogger,
    batchSize: config.etl.batchSize,
    schemaChanges: config.schemaChanges,
    defaultFailure: options.defaultFailure,
  });

  return {
    config,
    settings,
    sources,
    simulator,
    csvPath,
    taskQueue,
    async withWorker(body) {
      const worker = await Worker.create({
        connection: options.env.nativeConnection,
        namespace: options.env.namespace ?? 'default',
        taskQueue,
        workflowBundle: options.bundle,
        activities,
      });
      return worker.runUntil(body);
    },
    async close() {
      await simulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
