/**
 * The distributed topology, natively (no Docker engine here): one Temporal dev server, two worker processes and
 * the API process started the way the image starts it (`api --bootstrap`: migrations, schedules, first runs).
 * One worker is killed with SIGKILL in the middle of a large run; the run finishes on the other, and the tables
 * equal those of a clean run.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { freePort } from '../../src/infra/temporal-binaries';
import { SOURCE_NAMES } from '../../src/sources';
import { workflowIdFor } from '../../src/shared/names';
import type { IngestResult } from '../../src/shared/types';
import { livePollers } from '../../src/temporal/pollers';
import { startIngest } from '../../src/temporal/start-run';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createHarness, type Harness } from '../support/etl';
import { eventually } from '../support/eventually';
import { exitOf, Processes } from '../support/processes';
import { snapshot } from '../support/snapshot';
import { bundleWorkflows, devServerEnvironment } from '../support/temporal';

const COINS = 6_000; // CoinPaprika: about 24 batches of 250, long enough to kill a worker in the middle

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let harness: Harness;
let clean: TestDatabase;
let distributed: TestDatabase;
let dir: string;
const processes = new Processes();

beforeAll(async () => {
  [env, bundle, clean, distributed] = await Promise.all([devServerEnvironment(), bundleWorkflows(), createTestDatabase(), createTestDatabase()]);
  dir = await mkdtemp(join(tmpdir(), 'kasparro-distributed-'));
  harness = await createHarness({ env, sql: clean.sql, bundle, coins: COINS });
});
afterAll(async () => {
  await processes.stopAll();
  await harness?.close();
  await Promise.all([clean?.drop(), distributed?.drop()]);
  await env?.teardown();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('When a worker is SIGKILLed mid-run, then the run finishes on the other worker and the tables equal a clean run', async () => {
  // The clean run: every source to its end, one in-process worker, nothing interrupted.
  await harness.withWorker(async () => {
    for (const source of SOURCE_NAMES) {
      const run = await startIngest(env.client, { source, trigger: 'cli', taskQueue: harness.taskQueue });
      await env.client.workflow.getHandle(run.workflowId).result();
    }
  });
  const expected = await snapshot(clean.sql);
  const paprikaListings = expected.latest.filter((q) => q.startsWith('coinpaprika|')).length;
  expect(paprikaListings).toBeGreaterThan(COINS / 2);

  // The topology: configured only through the environment, like the containers.
  const bundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(bundlePath, bundle.code);
  const apiPort = await freePort();
  const namespace = env.namespace ?? 'default';
  const taskQueue = `distributed-${process.pid}`;
  const childEnv = {
    ...process.env,
    ...harness.settings,
    DATABASE_URL: distributed.url,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TEMPORAL_WORKFLOW_BUNDLE: bundlePath,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    // Schedules fire on wall-clock multiples of their interval: none during the test.
    SCHEDULE_INTERVAL_COINGECKO: '1000d',
    SCHEDULE_INTERVAL_COINPAPRIKA: '1000d',
    SCHEDULE_INTERVAL_CSV: '1000d',
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
  };
  const workers = [processes.cli(['worker'], childEnv), processes.cli(['worker'], childEnv)];
  processes.cli(['api', '--bootstrap'], childEnv);

  // Wait until CoinPaprika's run is a few batches in, with both workers polling, then kill the one running it.
  const paprika = env.client.workflow.getHandle(workflowIdFor('coinpaprika'));
  const victim = await eventually('a worker running CoinPaprika a few batches in, with both polling', async () => {
    const [run] = await distributed.sql<{ batches: number }[]>`
      SELECT batches FROM etl_runs WHERE source = 'coinpaprika' AND status = 'running'`;
    if (!run || run.batches < 3 || (await livePollers(env.client, { namespace, taskQueue, timeoutMs: 5_000 })).length < 2) return undefined;
    const pending = (await paprika.describe()).raw.pendingActivities ?? [];
    const pid = Number(pending[0]?.lastWorkerIdentity?.split('@')[0]);
    return workers.find((w) => w.pid === pid);
  }, { timeoutMs: 90_000, intervalMs: 50 });
  const survivor = workers.find((w) => w !== victim);
  victim.kill('SIGKILL');
  const killedAt = Date.now();
  await exitOf(victim);
  const [atKill] = await distributed.sql<{ batches: number }[]>`SELECT batches FROM etl_runs WHERE source = 'coinpaprika'`;

  // Every first run the API started finishes, CoinPaprika's on the surviving worker.
  const results: IngestResult[] = [];
  for (const source of SOURCE_NAMES) results.push(await env.client.workflow.getHandle(workflowIdFor(source)).result());
  expect(survivor?.exitCode).toBeNull();
  const paprikaRun = results.find((r) => r.source === 'coinpaprika');
  // Heartbeats let Temporal give up on the dead worker's batch within its 30 s heartbeat timeout; without them
  // the retry would wait out load's 5-minute (or fetch's 10-minute) start-to-close timeout.
  const closed = (await paprika.describe()).closeTime?.getTime() ?? Infinity;
  expect(closed - killedAt).toBeLessThan(120_000);
  expect(paprikaRun?.batches).toBeGreaterThan(atKill?.batches ?? 0);
  const runs = await distributed.sql<{ source: string; status: string }[]>`
    SELECT source, status FROM etl_runs WHERE trigger = 'cli' ORDER BY source`;
  expect(runs).toEqual(SOURCE_NAMES.map((source) => ({ source, status: 'succeeded' })).sort((a, b) => a.source.localeCompare(b.source)));
  expect(await snapshot(distributed.sql)).toEqual(expected);

  // The API process serves what the workers loaded, and sees the surviving worker.
  const data = await (await fetch(`http://127.0.0.1:${apiPort}/data?source=coinpaprika&limit=1`)).json() as { pagination: { total: number } };
  expect(data.pagination.total).toBe(paprikaListings);
  const health = await (await fetch(`http://127.0.0.1:${apiPort}/health`)).json() as { checks: { worker: { status: string } } };
  expect(health.checks.worker.status).toBe('ok');

  // The containers' probes (Dockerfile, docker-compose.yml) agree; a queue nobody polls is unhealthy.
  expect(await exitOf(processes.cli(['healthcheck', 'api'], childEnv))).toBe(0);
  expect(await exitOf(processes.cli(['healthcheck', 'worker'], childEnv))).toBe(0);
  expect(await exitOf(processes.cli(['healthcheck', 'worker'], { ...childEnv, TEMPORAL_TASK_QUEUE: 'nobody-polls-this' }))).toBe(1);
}, 300_000);
