import { appendFile, writeFile } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { SOURCE_NAMES } from '../../src/sources';
import { PROGRESS_QUERY, SOURCE_SEARCH_ATTRIBUTE, scheduleIdFor, workflowIdFor } from '../../src/shared/names';
import type { FailureMode, IngestResult, Progress } from '../../src/shared/types';
import { applySchedules } from '../../src/temporal/schedules';
import { startIngest } from '../../src/temporal/start-run';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createHarness, type Harness } from '../support/etl';
import { eventually } from '../support/eventually';
import { snapshot } from '../support/snapshot';
import { bundleWorkflows, devServerEnvironment } from '../support/temporal';

const CSV = [
  'id,symbol,name,price_usd,market_cap_usd,rank,last_updated',
  'btc,BTC,Bitcoin,"$64,000.50",1.2T,2,2026-01-01T00:00:00Z',
  'eth,ETH,Ethereum,3100.25,372B,3,2026-01-01T00:00:00Z',
  'bad,BAD,Broken Row,not-a-price,,,2026-01-01T00:00:00Z',
].join('\n');

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let client: Client;

beforeAll(async () => {
  [env, bundle] = await Promise.all([devServerEnvironment(), bundleWorkflows()]);
  client = env.client;
});
afterAll(async () => {
  await env?.teardown();
});

/** A fresh database and harness for one scenario; both are closed after `body`. */
async function scenario<T>(body: (h: Harness, db: TestDatabase) => Promise<T>, coins = 600): Promise<T> {
  const db = await createTestDatabase();
  const harness = await createHarness({ env, sql: db.sql, bundle, coins, csv: CSV });
  try {
    return await harness.withWorker(() => body(harness, db));
  } finally {
    await harness.close();
    await db.drop();
  }
}

async function runToEnd(h: Harness, source: string, failure?: { afterRecords: number; mode: FailureMode }): Promise<IngestResult> {
  const run = await startIngest(client, { source, trigger: 'cli', taskQueue: h.taskQueue, failure });
  return client.workflow.getHandle(run.workflowId).result();
}

async function runAll(h: Harness): Promise<IngestResult[]> {
  const results: IngestResult[] = [];
  for (const source of SOURCE_NAMES) results.push(await runToEnd(h, source));
  return results;
}

describe('the pipeline on a Temporal dev server and real PostgreSQL', () => {
  test('When every source runs, then each loads its records, Bitcoin is one asset, and bad rows are quarantined', async () => {
    await scenario(async (h, db) => {
      const results = await runAll(h);
      for (const r of results) expect(r.counts.fetched).toBeGreaterThan(0);
      const [btc] = await db.sql<{ sources: string[] }[]>`
        SELECT array_agg(source ORDER BY source) AS sources FROM asset_mappings
         WHERE asset_id = (SELECT asset_id FROM asset_mappings WHERE source = 'csv' AND source_asset_id = 'btc')`;
      expect(btc?.sources).toEqual(['coingecko', 'coinpaprika', 'csv']);
      const [weth] = await db.sql<{ assets: number }[]>`
        SELECT count(DISTINCT asset_id)::int AS assets FROM asset_mappings WHERE source = 'coingecko' AND upper(symbol) = 'WETH'`;
      expect(weth?.assets).toBe(2);
      const quarantined = await db.sql<{ reason: string }[]>`SELECT reason FROM quarantine WHERE source = 'csv'`;
      expect(quarantined.map((q) => q.reason)).toEqual([expect.stringMatching(/line 4: price: "not-a-price" is not a number/)]);
      const runs = await db.sql<{ status: string; trigger: string }[]>`SELECT status, trigger FROM etl_runs`;
      expect(runs).toHaveLength(3);
      expect(runs.every((r) => r.status === 'succeeded' && r.trigger === 'cli')).toBe(true);
    });
  });

  test('When the upstream has not changed, then a second run inserts nothing new; after a tick, history grows', async () => {
    await scenario(async (h, db) => {
      await runAll(h);
      const first = await snapshot(db.sql);

      const again = await runAll(h);
      expect(again.map((r) => r.counts.inserted)).toEqual([0, 0, 0]);
      expect(again.find((r) => r.source === 'csv')?.counts.fetched).toBe(0); // the file was read to its end
      expect(await snapshot(db.sql)).toEqual(first);

      h.simulator.tick();
      const later = await runToEnd(h, 'coingecko');
      expect(later.counts.inserted).toBeGreaterThan(0);
      const [count] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM quotes WHERE source = 'coingecko'`;
      expect(count?.n).toBe(first.quotes.filter((q) => q.startsWith('coingecko|')).length + later.counts.inserted);
    });
  });

  test.each([
    [1, 'fatal'],
    [250, 'fatal'],
    [501, 'fatal'],
    [400, 'once'],
  ] as const)('When a run fails after %i records (%s), then recovery leaves exactly the tables of a clean run', async (n, mode) => {
    const clean = await scenario(async (h, db) => {
      await runAll(h);
      return snapshot(db.sql);
    });
    const recovered = await scenario(async (h, db) => {
      for (const source of ['coingecko', 'coinpaprika']) {
        const attempt = runToEnd(h, source, { afterRecords: n, mode });
        if (mode === 'fatal') {
          await expect(attempt).rejects.toThrow();
          await runToEnd(h, source); // the next run resumes from the checkpoint
        } else {
          await attempt;
        }
      }
      await runToEnd(h, 'csv');
      const statuses = await db.sql<{ status: string }[]>`SELECT status FROM etl_runs ORDER BY started_at`;
      expect(statuses.filter((s) => s.status === 'failed')).toHaveLength(mode === 'fatal' ? 2 : 0);
      return snapshot(db.sql);
    });
    expect(recovered).toEqual(clean);
  });

  test('When rows are appended to the CSV file, then the next run loads them alone; a different file is loaded whole', async () => {
    await scenario(async (h, db) => {
      const first = await runToEnd(h, 'csv');
      expect(first.counts.fetched).toBe(3);
      await appendFile(h.csvPath, 'sol,SOL,Solana,238.10,113B,6,2026-01-01T00:00:00Z\n');
      const appended = await runToEnd(h, 'csv');
      expect(appended.counts).toEqual({ fetched: 1, inserted: 1, unchanged: 0, invalid: 0 });

      await writeFile(h.csvPath, 'symbol,name,price,last_updated\nBTC,Bitcoin,65000,2026-01-02T00:00:00Z\n');
      const replaced = await runToEnd(h, 'csv');
      expect(replaced.counts).toEqual({ fetched: 1, inserted: 1, unchanged: 0, invalid: 0 });
      const [rows] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM quotes WHERE source = 'csv'`;
      expect(rows?.n).toBe(4);
    });
  });

  test('When a run failed by fatal injection is reset, then it resumes from its checkpoint and completes', async () => {
    await scenario(async (h, db) => {
      const workflowId = workflowIdFor('coinpaprika');
      await expect(runToEnd(h, 'coinpaprika', { afterRecords: 300, mode: 'fatal' })).rejects.toThrow();
      const failed = await client.workflow.getHandle(workflowId).describe();
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const firstTask = history.events?.find((e) => e.workflowTaskCompletedEventAttributes);

      const reset = await client.workflowService.resetWorkflowExecution({
        namespace: env.namespace ?? 'default',
        workflowExecution: { workflowId, runId: failed.runId },
        workflowTaskFinishEventId: firstTask?.eventId,
        reason: 'test: retry the failed run',
        requestId: `reset-${Date.now()}`,
      });
      const result: IngestResult = await client.workflow.getHandle(workflowId, reset.runId ?? undefined).result();

      const [run] = await db.sql<{ status: string; fetched: number }[]>`SELECT status, fetched FROM etl_runs`;
      expect(run?.status).toBe('succeeded');
      expect(result.counts.fetched).toBe(run?.fetched);
      const [dupes] = await db.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM (SELECT 1 FROM quotes GROUP BY source, source_asset_id, source_updated_at HAVING count(*) > 1) d`;
      expect(dupes?.n).toBe(0);
      const [loaded] = await db.sql<{ n: number }[]>`SELECT count(DISTINCT source_asset_id)::int AS n FROM quotes`;
      expect(loaded?.n).toBe(run?.fetched);
    });
  });

  test('When a run whose fatal failure fired after its last batch is reset, then it ends with each record counted once', async () => {
    await scenario(async (h, db) => {
      const workflowId = workflowIdFor('coinpaprika');
      // 100 coins: one batch, the last; the failure fires once it has committed.
      await expect(runToEnd(h, 'coinpaprika', { afterRecords: 1, mode: 'fatal' })).rejects.toThrow('Workflow execution failed');
      const [before] = await db.sql<{ fetched: number; invalid: number; batches: number }[]>`SELECT fetched, invalid, batches FROM etl_runs`;
      expect(before?.batches).toBe(1);
      const failed = await client.workflow.getHandle(workflowId).describe();
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const reset = await client.workflowService.resetWorkflowExecution({
        namespace: env.namespace ?? 'default',
        workflowExecution: { workflowId, runId: failed.runId },
        workflowTaskFinishEventId: history.events?.find((e) => e.workflowTaskCompletedEventAttributes)?.eventId,
        reason: 'test: retry the failed run',
        requestId: `reset-${Date.now()}`,
      });
      const result: IngestResult = await client.workflow.getHandle(workflowId, reset.runId ?? undefined).result();
      const [after] = await db.sql<{ status: string; fetched: number; invalid: number; batches: number }[]>`SELECT status, fetched, invalid, batches FROM etl_runs`;
      expect(after).toEqual({ status: 'succeeded', ...before });
      expect(result.counts.fetched).toBe(before?.fetched);
      const [quotes] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM quotes`;
      expect(quotes?.n).toBe(before?.fetched);
    }, 100);
  });

  test('When a run of a source is in flight, then a manual start returns that run instead of a second one', async () => {
    await scenario(async (h) => {
      h.simulator.setFault({ kind: 'slow', source: 'coinpaprika', delayMs: 3000 });
      const first = await startIngest(client, { source: 'coinpaprika', trigger: 'api', taskQueue: h.taskQueue });
      const second = await startIngest(client, { source: 'coinpaprika', trigger: 'cli', taskQueue: h.taskQueue });
      expect(first.started).toBe(true);
      expect(second).toEqual({ ...first, started: false });

      // While it runs, its progress answers a query, and the Web UI's filter by source finds it.
      const handle = client.workflow.getHandle(first.workflowId);
      await eventually('the run to be fetching', async () => (await handle.query<Progress>(PROGRESS_QUERY)).phase === 'fetching');
      expect(await handle.query<Progress>(PROGRESS_QUERY)).toMatchObject({ source: 'coinpaprika', runId: first.runId, batches: 0 });
      await eventually('the run to be listed by its source', async () => {
        const listed = [];
        for await (const w of client.workflow.list({ query: `${SOURCE_SEARCH_ATTRIBUTE} = "coinpaprika" AND ExecutionStatus = "Running"` })) listed.push(w.workflowId);
        return listed.includes(first.workflowId);
      });
      const result: IngestResult = await handle.result();
      expect(await handle.query<Progress>(PROGRESS_QUERY)).toMatchObject({ phase: 'done', batches: result.batches });
    });
  });

  test('When the schedule fires, then it starts a run of its source under the fixed workflow id', async () => {
    await scenario(async (h, db) => {
      await applySchedules(client, h.sources, h.taskQueue);
      const schedule = client.schedule.getHandle(scheduleIdFor('csv'));
      try {
        const described = await schedule.describe();
        expect(described.policies.overlap).toBe('SKIP');
        await schedule.trigger();
        await eventually('a scheduled csv run to succeed', async () => (await db.sql`SELECT 1 FROM etl_runs WHERE source = 'csv' AND status = 'succeeded'`).length === 1);
        const [run] = await db.sql<{ trigger: string; workflow_id: string }[]>`SELECT trigger, workflow_id FROM etl_runs`;
        expect(run).toEqual({ trigger: 'schedule', workflow_id: workflowIdFor('csv') });
      } finally {
        for (const source of SOURCE_NAMES) await client.schedule.getHandle(scheduleIdFor(source)).delete();
      }
    });
  });
});
