import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Express } from 'express';
import request from 'supertest';
import { createActivities } from '../../activities';
import { createApp } from '../../api/app';
import type { ApiDeps } from '../../api/deps';
import { loadConfig } from '../../src/config';
import { createSources, type Sources } from '../../src/sources';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { recordResponses } from './conformance';
import { createTestDatabase, type TestDatabase } from './database';
import { eventually } from './eventually';
import { testLogger } from './logger';
import { devServerEnvironment } from './temporal';

export interface ApiContext {
  app: Express;
  openapi: ReturnType<typeof createApp>['openapi'];
  deps: ApiDeps;
  db: TestDatabase;
  env: TestWorkflowEnvironment;
  simulator: Simulator;
  sources: Sources;
  taskQueue: string;
  /** Every JSON response served so far that does not match openapi.json (test/support/conformance.ts). */
  nonConformant(): string[];
  /** How many JSON responses were checked. */
  responses(): number;
  /** Tears everything down, then fails (the test file's afterAll) when a response served did not match openapi.json. */
  close(): Promise<void>;
}

let queues = 0;

/**
 * The context's API with the read cache on, once it listens for changes: pages read before its LISTEN is in
 * place are not reused, so a test of the cache starts from there. close() it at the end.
 */
export async function appWithReadCache(ctx: ApiContext, readCacheMs: number): Promise<ReturnType<typeof createApp>> {
  const app = createApp({ ...ctx.deps, readCacheMs });
  await eventually('the API to listen for changes', async () => {
    const [row] = await ctx.db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'listen %'`;
    return (row?.n ?? 0) > 0;
  }, { timeoutMs: 5_000, intervalMs: 20 });
  return app;
}

/**
 * GET /health while a worker polls the context's task queue: retried until the worker check passes (the server
 * registers a worker's first poll a moment after it starts), or 10 s have gone by.
 */
export async function healthWithWorker(ctx: ApiContext, bundle: WorkflowBundleWithSourceMap): Promise<request.Response> {
  const worker = await Worker.create({
    connection: ctx.env.nativeConnection,
    namespace: ctx.deps.temporal.namespace,
    taskQueue: ctx.deps.temporal.taskQueue,
    workflowBundle: bundle,
    activities: createActivities({ sql: ctx.db.sql, sources: ctx.sources, log: testLogger, batchSize: 500 }),
  });
  return worker.runUntil(async () => {
    for (let attempt = 0; ; attempt++) {
      const res = await request(ctx.app).get('/health');
      if (res.body.checks?.worker?.status === 'ok' || attempt >= 40) return res;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });
}

/**
 * The API over real infrastructure: its own database, a Temporal dev server and the market simulator.
 * Load data with ingest() (test/support/ingest.ts); run a worker with harness helpers when a test needs runs.
 */
export async function createApiContext(options: { apiKey?: string; coins?: number } = {}): Promise<ApiContext> {
  const [db, env, simulator] = await Promise.all([
    createTestDatabase(),
    devServerEnvironment(),
    startSimulator({ coins: options.coins ?? 400, seed: 3 }),
  ]);
  const config = loadConfig({
    COINGECKO_BASE_URL: simulator.url,
    COINPAPRIKA_BASE_URL: simulator.url,
    COINGECKO_RATE_LIMIT_PER_MIN: '100000',
    COINPAPRIKA_RATE_LIMIT_PER_MIN: '100000',
  });
  const taskQueue = `api-test-${process.pid}-${++queues}`;
  const deps: ApiDeps = {
    sql: db.sql,
    log: testLogger,
    version: 'test',
    temporal: { client: env.client, namespace: env.namespace ?? 'default', taskQueue, webUiUrl: 'http://127.0.0.1:8233' },
    apiKey: options.apiKey,
    readCacheMs: 0, // tests read what they just wrote
  };
  const { app, openapi } = createApp(deps);
  const recorder = recordResponses(app);
  return {
    app: recorder.app,
    openapi,
    nonConformant: () => recorder.check(openapi),
    responses: () => recorder.count(),
    deps,
    db,
    env,
    simulator,
    sources: createSources(config.sources),
    taskQueue,
    async close() {
      const problems = recorder.check(openapi);
      await simulator.close();
      await db.drop();
      await env.teardown();
      if (problems.length) throw new Error(`responses that do not match openapi.json:\n${problems.join('\n')}`);
    },
  };
}
