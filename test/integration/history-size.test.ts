import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startIngest } from '../../src/temporal/start-run';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createHarness, type Harness } from '../support/etl';
import { bundleWorkflows, devServerEnvironment } from '../support/temporal';

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let harness: Harness;

beforeAll(async () => {
  const [e, bundle] = await Promise.all([devServerEnvironment(), bundleWorkflows()]);
  env = e;
  db = await createTestDatabase();
  // 112k coins put just over 100k on CoinPaprika.
  harness = await createHarness({
    env,
    sql: db.sql,
    bundle,
    coins: 112_000,
    settings: { ETL_BATCH_SIZE: '5000', COINPAPRIKA_PAGE_SIZE: '5000' },
  });
});
afterAll(async () => {
  await harness?.close();
  await db?.drop();
  await env?.teardown();
});

test('When a run loads 100k records, then its workflow history stays under 1 MB', async () => {
  const result = await harness.withWorker(async () => {
    const run = await startIngest(env.client, { source: 'coinpaprika', trigger: 'cli', taskQueue: harness.taskQueue });
    return env.client.workflow.getHandle(run.workflowId).result();
  });
  expect(result.counts.fetched).toBeGreaterThanOrEqual(100_000);

  // Every run of the chain (continue-as-new included), measured as the server stores it: encoded protobuf.
  let bytes = 0;
  let runId: string | undefined = result.runId;
  const seen = new Set<string>();
  while (runId && !seen.has(runId)) {
    seen.add(runId);
    const history = await env.client.workflow.getHandle('etl-coinpaprika', runId).fetchHistory();
    bytes += temporal.api.history.v1.History.encode(history).finish().length;
    const next = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    runId = next ?? undefined;
  }
  expect(bytes).toBeLessThan(1024 * 1024);
  const [rows] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM quotes`;
  expect(rows?.n).toBe(result.counts.inserted);
}, 600_000);
