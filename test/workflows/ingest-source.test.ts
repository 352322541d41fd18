import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { getRunView } from '../../src/db/run-queries';
import { WORKFLOW_TYPE } from '../../src/shared/names';
import type { IngestInput, IngestResult } from '../../src/shared/types';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createHarness, type Harness } from '../support/etl';
import { bundleWorkflows, timeSkippingEnvironment } from '../support/temporal';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let db: TestDatabase;
let harness: Harness;
let sequence = 0;

beforeAll(async () => {
  [env, bundle] = await Promise.all([timeSkippingEnvironment(), bundleWorkflows()]);
});
afterAll(async () => {
  await env?.teardown();
});
beforeEach(async () => {
  db = await createTestDatabase();
  harness = await createHarness({ env, sql: db.sql, bundle, coins: 600 });
});
afterEach(async () => {
  await harness.close();
  await db.drop();
});

function run(input: IngestInput, taskQueue = harness.taskQueue): Promise<IngestResult> {
  return env.client.workflow.execute(WORKFLOW_TYPE, {
    workflowId: `test-${input.source}-${++sequence}`,
    taskQueue,
    args: [input],
  });
}

async function quoteKeys(source: string): Promise<string[]> {
  const rows = await db.sql<{ key: string }[]>`
    SELECT source_asset_id || '@' || source_updated_at::text || '=' || price_usd::text AS key
      FROM quotes WHERE source = ${source} ORDER BY 1`;
  return rows.map((r) => r.key);
}

describe('ingestSource under the time-skipping server', () => {
  test('When CoinGecko answers 429 with Retry-After: 3600, then the run waits that hour in virtual time and completes', async () => {
    const coins = await countGeckoCoins();
    harness.simulator.setFault({ kind: 'rate-limit', source: 'coingecko', retryAfterSeconds: 3600, times: 1 });
    const virtualStart = await env.currentTimeMs();
    const realStart = Date.now();

    const result = await harness.withWorker(() => run({ source: 'coingecko', trigger: 'cli' }));

    expect(result.counts.fetched).toBe(coins);
    expect(await env.currentTimeMs()).toBeGreaterThanOrEqual(virtualStart + 3_600_000);
    expect(Date.now() - realStart).toBeLessThan(60_000);
    // Every page once, the last one short (or empty), plus the one request that got the 429.
    const pages = Math.floor(coins / 250) + 1;
    expect(harness.simulator.requests.count('/api/v3/coins/markets')).toBe(pages + 1);
  });

  test('When the upstream fails with 500 twice, then the fetch is retried and the run succeeds', async () => {
    harness.simulator.setFault({ kind: 'server-error', source: 'coinpaprika', times: 2 });
    const result = await harness.withWorker(() => run({ source: 'coinpaprika', trigger: 'cli' }));
    expect(harness.simulator.requests.count('/v1/tickers')).toBe(3);
    expect(result.counts.fetched).toBeGreaterThan(0);
    expect((await getRunView(db.sql, result.runId))?.status).toBe('succeeded');
  });

  test('When failure injection is "once", then the first attempt fails, the retry resumes, and the data equals a clean run', async () => {
    const clean = await harness.withWorker(() => run({ source: 'coinpaprika', trigger: 'cli' }));
    const cleanKeys = await quoteKeys('coinpaprika');
    await db.sql`TRUNCATE quotes, etl_runs, etl_checkpoints, etl_batches, raw_payloads, asset_mappings, assets, quarantine CASCADE`;

    const injected = await harness.withWorker(() =>
      run({ source: 'coinpaprika', trigger: 'cli', failure: { afterRecords: 300, mode: 'once' } }),
    );

    expect(await quoteKeys('coinpaprika')).toEqual(cleanKeys);
    expect(injected.counts.fetched).toBe(clean.counts.fetched);
    const [fired] = await db.sql`SELECT run_id FROM etl_fault_injections WHERE run_id = ${injected.runId}`;
    expect(fired).toBeDefined();
    expect((await getRunView(db.sql, injected.runId))?.status).toBe('succeeded');
  });

  test('When failure injection is "fatal", then the run fails and is recorded failed, and the next run resumes from the checkpoint', async () => {
    const clean = await harness.withWorker(() => run({ source: 'coinpaprika', trigger: 'cli' }));
    const cleanKeys = await quoteKeys('coinpaprika');
    await db.sql`TRUNCATE quotes, etl_runs, etl_checkpoints, etl_batches, raw_payloads, asset_mappings, assets, quarantine CASCADE`;

    const failed = harness.withWorker(() =>
      run({ source: 'coinpaprika', trigger: 'cli', failure: { afterRecords: 300, mode: 'fatal' } }),
    );
    await expect(failed).rejects.toBeInstanceOf(WorkflowFailedError);
    const [failedRun] = await db.sql<{ run_id: string; status: string; error: string; fetched: number }[]>`
      SELECT run_id, status, error, fetched FROM etl_runs`;
    expect(failedRun?.status).toBe('failed');
    expect(failedRun?.error).toMatch(/injected failure \(fatal\)/);
    const [checkpoint] = await db.sql<{ complete: boolean; cursor: { offset: number } }[]>`
      SELECT complete, cursor FROM etl_checkpoints WHERE source = 'coinpaprika'`;
    expect(checkpoint?.complete).toBe(false);
    expect(checkpoint?.cursor.offset).toBe(failedRun?.fetched);

    const resumed = await harness.withWorker(() => run({ source: 'coinpaprika', trigger: 'cli' }));

    expect(resumed.counts.fetched).toBe(clean.counts.fetched - (failedRun?.fetched ?? 0));
    expect(await quoteKeys('coinpaprika')).toEqual(cleanKeys);
  });
});

test('When the worker has a default failure injection and a run asks for none, then the run gets it', async () => {
  const defaulted = await createHarness({ env, sql: db.sql, bundle, coins: 300, defaultFailure: { afterRecords: 100, mode: 'fatal' } });
  try {
    await expect(defaulted.withWorker(() => run({ source: 'coinpaprika', trigger: 'schedule' }, defaulted.taskQueue))).rejects.toBeInstanceOf(WorkflowFailedError);
    const [failed] = await db.sql<{ status: string; fail_after: number; fail_mode: string }[]>`
      SELECT status, fail_after, fail_mode FROM etl_runs`;
    expect(failed).toEqual({ status: 'failed', fail_after: 100, fail_mode: 'fatal' });
  } finally {
    await defaulted.close();
  }
});

test('When history grows past its limit, then the run continues as new and the chain finishes as one run', async () => {
  const result = await harness.withWorker(() => run({ source: 'coinpaprika', trigger: 'cli', maxHistoryEvents: 20 }));
  const runs = await db.sql<{ run_id: string; status: string; batches: number; fetched: number; error: string | null }[]>`
    SELECT run_id, status, batches, fetched, error FROM etl_runs`;
  expect(runs).toEqual([{ run_id: result.runId, status: 'succeeded', batches: result.batches, fetched: result.counts.fetched, error: null }]);
  // Continuing as new is not a failure: the run was never recorded as failed on the way.
  const history = await env.client.workflow.getHandle(`test-coinpaprika-${sequence}`, result.runId).fetchHistory();
  const endRuns = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'endRun');
  expect(endRuns).toHaveLength(0);
  expect(result.batches).toBeGreaterThan(2);
  // Each batch carries the run on: the chain has as many runs as the history limit forced.
  const chain = await env.client.workflow.getHandle(`test-coinpaprika-${sequence}`).describe();
  expect(chain.runId).not.toBe(result.runId);
  expect(await db.sql`SELECT 1 FROM quotes`).toHaveLength(result.counts.inserted);
  // The run links to the execution that finished it, where the Web UI shows how it ended.
  const [linked] = await db.sql<{ temporal_run_id: string }[]>`SELECT temporal_run_id FROM etl_runs WHERE run_id = ${result.runId}`;
  expect(linked?.temporal_run_id).toBe(chain.runId);
});

async function countGeckoCoins(): Promise<number> {
  let total = 0;
  for (let page = 1; ; page++) {
    const body = (await (await fetch(`${harness.simulator.url}/api/v3/coins/markets?vs_currency=usd&per_page=250&page=${page}`)).json()) as unknown[];
    total += body.length;
    if (body.length < 250) break;
  }
  harness.simulator.requests.reset();
  return total;
}
