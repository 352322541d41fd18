import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import request from 'supertest';
import { createApp } from '../../api/app';
import type { ApiDeps } from '../../api/deps';
import { createSql } from '../../src/db/sql';
import { freePort } from '../../src/infra/temporal-binaries';
import { SOURCE_NAMES } from '../../src/sources';
import { appWithReadCache, createApiContext, healthWithWorker, type ApiContext } from '../support/api';
import { eventually } from '../support/eventually';
import { ingest } from '../support/ingest';
import { startPostgresProcess } from '../support/postgres-process';
import { bundleWorkflows } from '../support/temporal';

let ctx: ApiContext;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  [ctx, bundle] = await Promise.all([createApiContext(), bundleWorkflows()]);
  await ingest(ctx.db.sql, ctx.sources, 'coingecko');
  await ingest(ctx.db.sql, ctx.sources, 'coingecko');
  await ingest(ctx.db.sql, ctx.sources, 'coinpaprika');
});
const apps: ReturnType<typeof createApp>[] = [];
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await ctx?.close();
});

/** The API of the test context with some of its dependencies swapped. */
function appWith(overrides: { sql?: ApiDeps['sql']; temporal?: Partial<ApiDeps['temporal']> }) {
  const built = createApp({ ...ctx.deps, ...overrides, temporal: { ...ctx.deps.temporal, ...overrides.temporal } });
  apps.push(built);
  return built.app;
}

/** A TCP proxy to `target` (host:port) that can refuse connections for a while, as a restarting server does. */
async function tcpProxy(target: string) {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  const listenPort = await freePort();
  let server: Server | undefined;
  const up = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = new Socket().connect(port, host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s)).on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      }).listen(listenPort, '127.0.0.1', resolve);
    });
  await up();
  return {
    address: `127.0.0.1:${listenPort}`,
    up,
    /** Stops listening and drops every connection. */
    async down() {
      const closed = new Promise((resolve) => server?.close(resolve));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** A task queue no worker has ever polled. */
const idleQueue = () => `never-polled-${process.pid}-${Date.now()}`;

/**
 * The newest run of a source, to backdate by an hour (its age in /health moves by 3,600 s: a new round of checks
 * shows it, a reused one does not) and restore.
 */
async function newestRun(source: string) {
  const [newest] = await ctx.db.sql<{ run_id: string }[]>`
    SELECT run_id FROM etl_runs WHERE source = ${source} ORDER BY started_at DESC LIMIT 1`;
  const shift = (by: string) => ctx.db.sql`UPDATE etl_runs SET started_at = started_at + ${by}::interval WHERE run_id = ${newest?.run_id ?? ''}`;
  return { backdate: () => shift('-1 hour'), restore: () => shift('1 hour') };
}

/** The age /health gives coinpaprika's newest run. */
const paprikaAge = (res: request.Response) =>
  res.body.last_runs.find((r: { source: string }) => r.source === 'coinpaprika').age_seconds as number;

async function healthOf(app: Parameters<typeof request>[0]) {
  const started = performance.now();
  const res = await request(app).get('/health');
  return { res, ms: performance.now() - started };
}

describe('GET /health', () => {
  test('When a worker polls the task queue, then /health is 200 and every check is ok', async () => {
    const res = await healthWithWorker(ctx, bundle);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', message: 'healthy', failed: [] });
    expect(res.body.checks.database.status).toBe('ok');
    expect(res.body.checks.temporal.status).toBe('ok');
    expect(res.body.checks.worker).toMatchObject({ status: 'ok' });
    expect(res.body.checks.worker.pollers).toBeGreaterThanOrEqual(1);
    expect(res.body.checks.database.latency_ms).toBeGreaterThanOrEqual(0);
    expect(res.body.request_id).toBe(res.headers['x-request-id']);
    expect(typeof res.body.api_latency_ms).toBe('number');
  });

  test('When no worker polls the task queue, then /health is 503 naming the worker, with PostgreSQL and Temporal ok', async () => {
    const queue = idleQueue();
    const res = await request(appWith({ temporal: { taskQueue: queue } })).get('/health').expect(503);
    expect(res.body).toMatchObject({ status: 'fail', message: 'unhealthy: worker', failed: ['worker'] });
    expect(res.body.checks.worker).toMatchObject({ status: 'fail', pollers: 0, detail: `no worker is polling task queue ${queue}` });
    expect(res.body.checks.database.status).toBe('ok');
    expect(res.body.checks.temporal.status).toBe('ok');
  });

  test('When sources have run, then /health lists the newest run of each source with its status and age', async () => {
    const res = await request(ctx.app).get('/health');
    const newest = await ctx.db.sql<{ source: string; run_id: string; status: string; age: number }[]>`
      SELECT DISTINCT ON (source) source, run_id, status, extract(epoch FROM now() - started_at)::float8 AS age
        FROM etl_runs ORDER BY source, started_at DESC`;
    expect(newest.map((r) => r.source)).toEqual(['coingecko', 'coinpaprika']);
    expect(res.body.last_runs.map((r: { source: string }) => r.source)).toEqual([...SOURCE_NAMES]);
    for (const run of newest) {
      const listed = res.body.last_runs.find((r: { source: string }) => r.source === run.source);
      expect(listed).toMatchObject({ run_id: run.run_id, status: run.status });
      expect(listed.age_seconds).toBeGreaterThanOrEqual(0);
      expect(Math.abs(listed.age_seconds - run.age)).toBeLessThan(5);
    }
    const csv = res.body.last_runs.find((r: { source: string }) => r.source === 'csv');
    expect(csv).toEqual({ source: 'csv', run_id: null, status: null, started_at: null, finished_at: null, age_seconds: null });
  });

  test('When PostgreSQL is stopped, then /health is 503 naming the database, and ok again once it is back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kasparro-health-pg-'));
    const port = await freePort();
    let pg = await startPostgresProcess(dir, port);
    const sql = createSql(pg.url, { max: 2 });
    try {
      const app = appWith({ sql });
      const up = await request(app).get('/health');
      expect(up.body.checks.database.status).toBe('ok');

      await pg.stop();
      const { res: down, ms } = await healthOf(app);
      expect(down.status).toBe(503);
      expect(down.body.failed).toContain('database');
      expect(down.body.message).toContain('database');
      expect(down.body.checks.database).toMatchObject({ status: 'fail' });
      expect(down.body.checks.database.detail).toMatch(/^unreachable/);
      expect(down.body.last_runs).toBeNull();
      expect(down.body.checks.temporal.status).toBe('ok');
      expect(ms).toBeLessThan(4000);

      // The same app, pool and port: the pool reconnects without a restart of the API.
      pg = await startPostgresProcess(dir, port);
      const back = await request(app).get('/health');
      expect(back.body.checks.database.status).toBe('ok');
      expect(back.body.failed).not.toContain('database');
    } finally {
      await sql.end({ timeout: 0 });
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('When PostgreSQL accepts connections but never answers, then /health is 503 within the 2 s bound, not a hang', async () => {
    const sockets: Socket[] = [];
    const blackHole: Server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const port = (blackHole.address() as { port: number }).port;
    const silent = createSql(`postgres://kasparro:unused@127.0.0.1:${port}/kasparro`, { max: 1 });
    try {
      const { res, ms } = await healthOf(appWith({ sql: silent }));
      expect(res.status).toBe(503);
      expect(res.body.failed).toContain('database');
      expect(res.body.checks.database).toMatchObject({ status: 'fail', detail: 'no answer within 2000 ms' });
      expect(res.body.checks.database.latency_ms).toBeGreaterThanOrEqual(1900);
      expect(ms).toBeLessThan(4000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await Promise.all([silent.end({ timeout: 0 }), new Promise((resolve) => blackHole.close(resolve))]);
    }
  });

  test('When the database pool has been shut down, then /health is 503 naming the database', async () => {
    const closed = createSql(ctx.db.url, { max: 1 });
    await closed`SELECT 1`;
    await closed.end();
    const res = await request(appWith({ sql: closed })).get('/health').expect(503);
    expect(res.body.failed).toContain('database');
    expect(res.body.checks.database).toMatchObject({ status: 'fail', detail: 'unreachable (CONNECTION_ENDED)' });
  });

  test('When no worker polls, then /metrics says 0 pollers; when Temporal does not answer, the gauge is absent, not 0', async () => {
    const pollersIn = (text: string) => /^kasparro_task_queue_pollers\{task_queue="[^"]+"\} (\d+)$/m.exec(text)?.[1];
    const idle = await request(appWith({ temporal: { taskQueue: idleQueue() } })).get('/metrics').expect(200);
    expect(pollersIn(idle.text)).toBe('0');
    const connection = Connection.lazy({
      address: `127.0.0.1:${await freePort()}`,
      interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 2 }))],
    });
    try {
      const client = new Client({ connection, namespace: ctx.deps.temporal.namespace });
      const unknown = await request(appWith({ temporal: { client } })).get('/metrics').expect(200);
      expect(unknown.text).toMatch(/^# TYPE kasparro_task_queue_pollers gauge$/m);
      expect(pollersIn(unknown.text)).toBeUndefined();
    } finally {
      await connection.close();
    }
  });

  test('When the Temporal frontend is unreachable, then /health is 503 naming Temporal and the worker check', async () => {
    // Two attempts instead of ten: the client's retry timers then end with the request, before the connection closes.
    const connection = Connection.lazy({
      address: `127.0.0.1:${await freePort()}`,
      interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 2 }))],
    });
    const client = new Client({ connection, namespace: ctx.deps.temporal.namespace });
    try {
      const { res, ms } = await healthOf(appWith({ temporal: { client } }));
      expect(res.status).toBe(503);
      expect(res.body.failed).toEqual(['temporal', 'worker']);
      expect(res.body.checks.temporal.status).toBe('fail');
      expect(res.body.checks.worker).toMatchObject({ status: 'fail', pollers: null });
      expect(res.body.checks.database.status).toBe('ok');
      expect(ms).toBeLessThan(4000);
    } finally {
      await connection.close();
    }
  });

  test('When the Temporal frontend goes away, then the next /health is 503 at once, though it is back before a retrying call would give up', async () => {
    const proxy = await tcpProxy((ctx.deps.temporal.client.connection as Connection).options.address);
    // The API's own client retries for as long as it is given; /health must not lean on that.
    const connection = Connection.lazy({ address: proxy.address });
    const client = new Client({ connection, namespace: ctx.deps.temporal.namespace });
    try {
      const app = appWith({ temporal: { client } });
      expect((await healthOf(app)).res.body.checks.temporal.status).toBe('ok');
      await proxy.down();
      const back = new Promise((resolve) => setTimeout(resolve, 700)).then(() => proxy.up());
      const { res } = await healthOf(app);
      await back;
      expect(res.body.checks.temporal).toMatchObject({ status: 'fail' });
      expect(res.status).toBe(503);
      await eventually('/health ok again', async () => (await healthOf(app)).res.body.checks.temporal.status === 'ok', { timeoutMs: 10_000, intervalMs: 200 });
    } finally {
      await connection.close();
      await proxy.down();
    }
  });

  test('When the read cache is on, then /health answers from one round of checks for a second, then from the next', async () => {
    const withCache = await appWithReadCache(ctx, 60_000);
    const run = await newestRun('coinpaprika');
    try {
      const first = await request(withCache.app).get('/health');
      await run.backdate();
      // Well within the second of reuse: the same round, with this request's own envelope.
      const second = await request(withCache.app).get('/health');
      expect(paprikaAge(second)).toBe(paprikaAge(first));
      expect(second.body.checks).toEqual(first.body.checks);
      expect(second.body.request_id).not.toBe(first.body.request_id);
      // Past the second, the next round runs (the last one still answering meanwhile) and shows the change.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await eventually('a new round of checks', async () => paprikaAge(await request(withCache.app).get('/health')) - paprikaAge(first) > 3_590, {
        timeoutMs: 5_000,
        intervalMs: 50,
      });
    } finally {
      await run.restore();
      await withCache.close();
    }
  });

  test('When the database connection is lost, then /health checks again at once instead of reusing the last round', async () => {
    const withCache = await appWithReadCache(ctx, 60_000);
    const run = await newestRun('coinpaprika');
    try {
      const first = await request(withCache.app).get('/health');
      // As a PostgreSQL restart ends every backend: the change feed's connection is the first to hear of it.
      await ctx.db.sql`
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'kasparro-etl change feed'`;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await run.backdate();
      // Well within the second the round would otherwise be reused (and the 2 s before LISTEN is tried again).
      const second = await request(withCache.app).get('/health');
      expect(paprikaAge(second) - paprikaAge(first)).toBeGreaterThan(3_590);
    } finally {
      await run.restore();
      await withCache.close();
    }
  });
});
