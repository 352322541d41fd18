import { randomUUID } from 'node:crypto';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import request from 'supertest';
import { createActivities } from '../../activities';
import { PROGRESS_QUERY } from '../../src/shared/names';
import type { IngestResult } from '../../src/shared/types';
import { startIngest } from '../../src/temporal/start-run';
import { createApiContext, type ApiContext } from '../support/api';
import { ingest } from '../support/ingest';
import { testLogger } from '../support/logger';
import { bundleWorkflows } from '../support/temporal';

let ctx: ApiContext;
let bundle: WorkflowBundleWithSourceMap;

interface Synthetic {
  source: string;
  hour: number;
  seconds: number | null;
  fetched: number;
  status?: 'succeeded' | 'failed' | 'running';
}

const T0 = Date.parse('2025-01-01T00:00:00Z');
/** Ten steady csv runs (9.5–10.5 s, 990–1,010 records), then runs that stand out, or do not. */
const steady: Synthetic[] = Array.from({ length: 10 }, (_, i) => ({
  source: 'csv',
  hour: i,
  seconds: 10 + ((i % 3) - 1) * 0.5,
  fetched: 1000 + ((i % 3) - 1) * 10,
}));
const slow: Synthetic = { source: 'csv', hour: 10, seconds: 60, fetched: 1000 };
const small: Synthetic = { source: 'csv', hour: 11, seconds: 10, fetched: 12 };
const ordinary: Synthetic = { source: 'csv', hour: 12, seconds: 10.2, fetched: 1003 };
const both: Synthetic = { source: 'csv', hour: 13, seconds: 45.2, fetched: 3, status: 'failed' };
const inFlight: Synthetic = { source: 'csv', hour: 14, seconds: null, fetched: 40, status: 'running' };
/** Four runs of history are too few to judge the fifth, however extreme. */
const shortHistory: Synthetic[] = [
  ...Array.from({ length: 4 }, (_, i) => ({ source: 'legacy-feed', hour: i, seconds: 10, fetched: 1000 })),
  { source: 'legacy-feed', hour: 4, seconds: 600, fetched: 1 },
];
const synthetic = [...steady, slow, small, ordinary, both, inFlight, ...shortHistory];
const ids = new Map<Synthetic, string>();

beforeAll(async () => {
  [ctx, bundle] = await Promise.all([createApiContext(), bundleWorkflows()]);
  await ingest(ctx.db.sql, ctx.sources, 'coingecko');
  ctx.simulator.tick();
  await ingest(ctx.db.sql, ctx.sources, 'coingecko');
  await ingest(ctx.db.sql, ctx.sources, 'coinpaprika');
  for (const run of synthetic) {
    const id = randomUUID();
    ids.set(run, id);
    const started = new Date(T0 + run.hour * 3_600_000);
    const finished = run.seconds === null ? null : new Date(started.getTime() + run.seconds * 1000);
    await ctx.db.sql`
      INSERT INTO etl_runs (run_id, workflow_id, temporal_run_id, source, trigger, status, started_at, finished_at, fetched, inserted)
      VALUES (${id}, ${`etl-${run.source}`}, ${id}, ${run.source}, 'schedule', ${run.status ?? 'succeeded'}, ${started},
              ${finished}, ${run.fetched}, ${run.fetched})`;
  }
});
afterAll(async () => {
  await ctx?.close();
});

type RunItem = { run_id: string; source: string; status: string; outlier: { reasons: string[] } | null };

async function listed(run: Synthetic): Promise<RunItem> {
  const res = await request(ctx.app).get('/runs').query({ limit: '200' }).expect(200);
  const item = res.body.data.find((r: RunItem) => r.run_id === ids.get(run));
  expect(item).toBeDefined();
  return item;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

describe('GET /runs', () => {
  test('When called without parameters, then the 20 newest runs come first with the total, newest first', async () => {
    const res = await request(ctx.app).get('/runs').expect(200);
    const expected = await ctx.db.sql<{ run_id: string }[]>`SELECT run_id FROM etl_runs ORDER BY started_at DESC, run_id DESC`;
    expect(res.body.pagination).toEqual({ limit: 20, offset: 0, total: expected.length });
    expect(res.body.data.map((r: RunItem) => r.run_id)).toEqual(expected.slice(0, 20).map((r) => r.run_id));
    expect(res.body.request_id).toBe(res.headers['x-request-id']);
    expect(typeof res.body.api_latency_ms).toBe('number');
  });

  test('When paging with limit and offset, then every run is served once, in order', async () => {
    const expected = await ctx.db.sql<{ run_id: string }[]>`SELECT run_id FROM etl_runs ORDER BY started_at DESC, run_id DESC`;
    const seen: string[] = [];
    for (let offset = 0; offset < expected.length; offset += 4) {
      const res = await request(ctx.app).get('/runs').query({ limit: 4, offset }).expect(200);
      expect(res.body.pagination).toEqual({ limit: 4, offset, total: expected.length });
      seen.push(...res.body.data.map((r: RunItem) => r.run_id));
    }
    expect(seen).toEqual(expected.map((r) => r.run_id));
    const past = await request(ctx.app).get('/runs').query({ offset: expected.length }).expect(200);
    expect(past.body.data).toEqual([]);
  });

  test('When filtering by source and status, then only those runs come back, with their total', async () => {
    for (const [source, status] of [['csv', undefined], ['coingecko', undefined], [undefined, 'failed'], ['csv', 'succeeded']] as const) {
      const res = await request(ctx.app).get('/runs').query({ limit: 200, ...(source ? { source } : {}), ...(status ? { status } : {}) }).expect(200);
      const expected = await ctx.db.sql<{ run_id: string }[]>`
        SELECT run_id FROM etl_runs
         WHERE (${source ?? null}::text IS NULL OR source = ${source ?? null}) AND (${status ?? null}::text IS NULL OR status = ${status ?? null})
         ORDER BY started_at DESC, run_id DESC`;
      expect(expected.length).toBeGreaterThan(0);
      expect(res.body.pagination.total).toBe(expected.length);
      expect(res.body.data.map((r: RunItem) => r.run_id)).toEqual(expected.map((r) => r.run_id));
    }
  });

  test('When a run is listed, then it carries its counts, times and duration as recorded', async () => {
    const [row] = await ctx.db.sql<{ run_id: string; fetched: number; inserted: number; unchanged: number; invalid: number; batches: number; started_at: Date; finished_at: Date; duration: number }[]>`
      SELECT run_id, fetched, inserted, unchanged, invalid, batches, started_at, finished_at,
             extract(epoch FROM finished_at - started_at)::float8 AS duration
        FROM etl_runs WHERE source = 'coingecko' ORDER BY started_at DESC LIMIT 1`;
    const res = await request(ctx.app).get('/runs').query({ source: 'coingecko', limit: 1 }).expect(200);
    expect(res.body.data[0]).toMatchObject({
      run_id: row?.run_id,
      source: 'coingecko',
      status: 'succeeded',
      trigger: 'cli',
      counts: { fetched: row?.fetched, inserted: row?.inserted, unchanged: row?.unchanged, invalid: row?.invalid },
      batches: row?.batches,
      started_at: row?.started_at.toISOString(),
      finished_at: row?.finished_at.toISOString(),
      error: null,
      failure_injection: null,
      outlier: null, // one earlier run only: too little history to judge
    });
    expect(res.body.data[0].duration_seconds).toBeCloseTo(row?.duration ?? NaN, 6);
  });

  test("When a run's duration is far above its source's median, then it is flagged, saying by how much", async () => {
    const history = steady.map((r) => r.seconds as number);
    expect((await listed(slow)).outlier).toEqual({
      reasons: [`duration 60.0s is ${(60 / median(history)).toFixed(1)}x the median ${median(history).toFixed(1)}s of the last 10 runs`],
    });
  });

  test("When a run fetched far fewer records than usual, then it is flagged on its record count", async () => {
    const history = [...steady, slow].map((r) => r.fetched);
    expect(median(history)).toBe(1000);
    expect((await listed(small)).outlier).toEqual({ reasons: ['records fetched 12 is 0.012x the median 1000 of the last 11 runs'] });
  });

  test('When a run is both slow and short of records, then both reasons are given; an ordinary run is not flagged', async () => {
    const item = await listed(both);
    expect(item.status).toBe('failed');
    const durations = [...steady, slow, small, ordinary].map((r) => r.seconds as number);
    expect(item.outlier?.reasons).toEqual([
      `duration 45.2s is ${(45.2 / median(durations)).toFixed(1)}x the median ${median(durations).toFixed(1)}s of the last 13 runs`,
      `records fetched 3 is ${Number((3 / median([...steady, slow, small, ordinary].map((r) => r.fetched))).toPrecision(2))}x the median 1000 of the last 13 runs`,
    ]);
    expect((await listed(ordinary)).outlier).toBeNull();
    for (const run of steady) expect((await listed(run)).outlier).toBeNull();
  });

  test('When a run is still running or its source has fewer than 5 earlier runs, then it is not judged', async () => {
    expect((await listed(inFlight)).outlier).toBeNull();
    const extreme = shortHistory.at(-1) as Synthetic;
    const item = await listed(extreme);
    expect(item.source).toBe('legacy-feed');
    expect(item.outlier).toBeNull();
  });

  test.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '201' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ offset: '-1' }, 'offset'],
    [{ offset: '1.5' }, 'offset'],
    [{ source: 'binance' }, 'source'],
    [{ status: 'done' }, 'status'],
  ])('When the query is %j, then 400 names the field %s', async (query, field) => {
    const res = await request(ctx.app).get('/runs').query(query).expect(400);
    expect(res.body.error).toBe('bad_request');
    expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
  });
});

describe('GET /runs/:run_id', () => {
  test('When the run is finished, then it is returned with its Web UI link and no progress', async () => {
    const [row] = await ctx.db.sql<{ run_id: string; workflow_id: string; temporal_run_id: string; fetched: number; inserted: number }[]>`
      SELECT run_id, workflow_id, temporal_run_id, fetched, inserted FROM etl_runs WHERE source = 'coinpaprika' LIMIT 1`;
    const res = await request(ctx.app).get(`/runs/${row?.run_id}`).expect(200);
    expect(res.body).toMatchObject({
      run_id: row?.run_id,
      source: 'coinpaprika',
      status: 'succeeded',
      counts: { fetched: row?.fetched, inserted: row?.inserted },
      web_ui_url: `http://127.0.0.1:8233/namespaces/${ctx.deps.temporal.namespace}/workflows/${row?.workflow_id}/${row?.temporal_run_id}/history`,
      progress: null,
      progress_note: null,
    });
    expect(res.body.request_id).toBe(res.headers['x-request-id']);
    expect(typeof res.body.api_latency_ms).toBe('number');
  });

  test('When the run id is unknown, then 404', async () => {
    const id = randomUUID();
    const res = await request(ctx.app).get(`/runs/${id}`).expect(404);
    expect(res.body).toMatchObject({ error: 'not_found', message: `run ${id} not found` });
  });

  test.each(['not-a-uuid', '12345', '0198c2b4-3f3a-7c1e-9d52-8e1f0a6b4c21x'])('When the run id is %s, then 400 names run_id', async (id) => {
    const res = await request(ctx.app).get(`/runs/${id}`).expect(400);
    expect(res.body.details.map((d: { field: string }) => d.field)).toEqual(['run_id']);
  });

  test("When a running run's workflow does not exist, then the run is returned with progress null and a note", async () => {
    const id = randomUUID();
    await ctx.db.sql`
      INSERT INTO etl_runs (run_id, workflow_id, temporal_run_id, source, trigger, status)
      VALUES (${id}, 'etl-vanished', ${id}, 'legacy-feed', 'api', 'running')`;
    const res = await request(ctx.app).get(`/runs/${id}`).expect(200);
    expect(res.body).toMatchObject({ run_id: id, status: 'running', progress: null });
    expect(res.body.progress_note).toMatch(/^progress unavailable: /);
  });

  test('When no worker can answer the progress query, then the run comes back within the bound with progress null', async () => {
    const queue = `no-worker-${process.pid}`;
    const started = await startIngest(ctx.env.client, { source: 'csv', trigger: 'api', taskQueue: queue });
    try {
      // The workflow has not run a single task, so its row is written here as startRun would write it.
      await ctx.db.sql`
        INSERT INTO etl_runs (run_id, workflow_id, temporal_run_id, source, trigger, status)
        VALUES (${started.runId}, ${started.workflowId}, ${started.runId}, 'csv', 'api', 'running')`;
      const t = performance.now();
      const res = await request(ctx.app).get(`/runs/${started.runId}`).expect(200);
      expect(performance.now() - t).toBeLessThan(4000);
      expect(res.body).toMatchObject({ run_id: started.runId, status: 'running', progress: null });
      expect(res.body.progress_note).toMatch(/^progress unavailable: /);
    } finally {
      await ctx.env.client.workflow.getHandle(started.workflowId).terminate('test over');
      await ctx.db.sql`UPDATE etl_runs SET status = 'cancelled', finished_at = now() WHERE run_id = ${started.runId}`;
    }
  });

  test('When a run is in flight, then its live progress comes from the workflow, and once finished progress is null', async () => {
    const worker = await Worker.create({
      connection: ctx.env.nativeConnection,
      namespace: ctx.deps.temporal.namespace,
      taskQueue: ctx.taskQueue,
      workflowBundle: bundle,
      activities: createActivities({ sql: ctx.db.sql, sources: ctx.sources, log: testLogger, batchSize: 500 }),
    });
    await worker.runUntil(async () => {
      ctx.simulator.setFault({ kind: 'slow', source: 'coinpaprika', delayMs: 3000 });
      const started = await startIngest(ctx.env.client, { source: 'coinpaprika', trigger: 'api', taskQueue: ctx.taskQueue });
      const handle = ctx.env.client.workflow.getHandle(started.workflowId);

      // The row appears once startRun has run; the fetch then waits 3 s on the slow upstream.
      let res: request.Response;
      for (let attempt = 0; ; attempt++) {
        res = await request(ctx.app).get(`/runs/${started.runId}`);
        if ((res.status === 200 && res.body.progress?.phase === 'fetching') || attempt >= 150) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(res.status).toBe(200);
      const direct = await handle.query(PROGRESS_QUERY);
      expect(res.body).toMatchObject({
        run_id: started.runId,
        source: 'coinpaprika',
        status: 'running',
        finished_at: null,
        duration_seconds: null,
        progress: { phase: 'fetching', batches: 0, counts: { fetched: 0, inserted: 0, unchanged: 0, invalid: 0 } },
        progress_note: null,
      });
      expect(direct).toMatchObject({ runId: started.runId, phase: 'fetching', batches: res.body.progress.batches });
      const [row] = await ctx.db.sql<{ temporal_run_id: string }[]>`SELECT temporal_run_id FROM etl_runs WHERE run_id = ${started.runId}`;
      expect(res.body.web_ui_url).toBe(
        `http://127.0.0.1:8233/namespaces/${ctx.deps.temporal.namespace}/workflows/etl-coinpaprika/${row?.temporal_run_id}/history`,
      );

      const result: IngestResult = await handle.result();
      const done = await request(ctx.app).get(`/runs/${started.runId}`).expect(200);
      expect(done.body).toMatchObject({ status: 'succeeded', progress: null, progress_note: null, counts: result.counts, batches: result.batches });
    });
  });
});
