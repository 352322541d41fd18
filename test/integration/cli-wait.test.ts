/**
 * `etl run … --wait` and `etl replay … --wait` as a user types them, against a dev server with a worker: a run
 * that fails is one line with its run id, status and error, and a non-zero exit code, never a stack trace.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createHarness, type Harness } from '../support/etl';
import { Processes } from '../support/processes';
import { bundleWorkflows, devServerEnvironment } from '../support/temporal';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let db: TestDatabase;
let harness: Harness;
const processes = new Processes();

beforeAll(async () => {
  [env, bundle, db] = await Promise.all([devServerEnvironment(), bundleWorkflows(), createTestDatabase()]);
  harness = await createHarness({ env, sql: db.sql, bundle, coins: 100 });
});
afterAll(async () => {
  await processes.stopAll();
  await harness?.close();
  await db?.drop();
  await env?.teardown();
});

const etl = (...args: string[]) =>
  harness.withWorker(() =>
    processes.cliOutput(args, { ...process.env, DATABASE_URL: db.url, TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: harness.taskQueue, LOG_LEVEL: 'silent' }),
  );

test('When a run started with --wait fails, then the CLI prints one line with the run id, status and error and exits 1', async () => {
  const out = await etl('run', 'csv', '--fail-after', '0', '--mode', 'fatal', '--wait');
  expect(out.code).toBe(1);
  expect(out.stderr.trim()).toMatch(/^run [0-9a-f-]{36} of csv failed: injected failure \(fatal\) after \d+ committed records \(asked: 0\)$/);
  const [run] = await db.sql<{ status: string }[]>`SELECT status FROM etl_runs WHERE source = 'csv'`;
  expect(run?.status).toBe('failed');
});

test('When a run started with --wait succeeds, then the CLI exits 0', async () => {
  const out = await etl('run', 'csv', '--wait');
  expect(out).toMatchObject({ code: 0, stderr: '' });
});
