import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CHANGE_KINDS } from '../src/contracts/drift';
import { recentRunDurations, runTotals } from '../src/db/metrics-queries';
import { schemaChangeTotals } from '../src/db/schema-change-queries';
import type { Sql } from '../src/db/sql';
import { SOURCE_NAMES } from '../src/sources';

/**
 * Prometheus metrics. ETL figures are read from PostgreSQL at scrape time (etl_runs is the record of what
 * workers did), so they are right whichever process ran the ETL and survive restarts. Each app has its own
 * registry, so several apps in one process (tests) do not collide.
 */
export function createMetrics(
  sql: Sql,
  /** The workflow task queue, and how many workers poll it now (asked of Temporal at scrape time; rejects when it does not answer). */
  taskQueue: { name: string; pollers: () => Promise<number> },
): { registry: Registry; observeHttp: RequestHandler } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  new Counter({
    name: 'kasparro_records_processed_total',
    help: 'Records processed by ETL runs, by source and outcome',
    labelNames: ['source', 'outcome'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const t of await runTotals(sql)) {
        for (const outcome of ['fetched', 'inserted', 'unchanged', 'invalid'] as const) {
          this.inc({ source: t.source, outcome }, t[outcome]);
        }
      }
    },
  });
  new Gauge({
    name: 'kasparro_runs',
    help: 'ETL runs by source and status',
    labelNames: ['source', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const t of await runTotals(sql)) this.set({ source: t.source, status: t.status }, t.runs);
    },
  });
  new Histogram({
    name: 'kasparro_run_duration_seconds',
    help: 'Duration of recent finished ETL runs',
    labelNames: ['source', 'status'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await recentRunDurations(sql)) this.observe({ source: r.source, status: r.status }, r.seconds);
    },
  });
  // Every source and kind starts at 0, so the first change of a kind is an increase Prometheus can see, and an
  // alert on open changes resolves to 0 rather than to a series that vanished.
  new Counter({
    name: 'kasparro_schema_changes_total',
    help: "Distinct changes of an upstream's shape detected, by source and kind",
    labelNames: ['source', 'kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const source of SOURCE_NAMES) for (const kind of CHANGE_KINDS) this.inc({ source, kind }, 0);
      for (const t of await schemaChangeTotals(sql)) this.inc({ source: t.source, kind: t.kind }, t.changes);
    },
  });
  new Gauge({
    name: 'kasparro_schema_changes_open',
    help: 'Schema changes nobody has accepted or ignored yet, by source and whether they hold records back',
    labelNames: ['source', 'breaking'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const source of SOURCE_NAMES) for (const breaking of ['true', 'false']) this.set({ source, breaking }, 0);
      for (const t of await schemaChangeTotals(sql)) this.inc({ source: t.source, breaking: String(t.breaking) }, t.open);
    },
  });

  new Gauge({
    name: 'kasparro_task_queue_pollers',
    help: 'Workers that polled the workflow task queue in the last 2 minutes; absent while Temporal does not answer',
    labelNames: ['task_queue'],
    registers: [registry],
    async collect() {
      // No series rather than a made-up 0 when Temporal cannot say: an alert tells "none" from "unknown". (The
      // label matters: prom-client reports an unlabelled gauge as 0 even after reset().)
      this.reset();
      const n = await taskQueue.pollers().catch(() => undefined);
      if (n !== undefined) this.set({ task_queue: taskQueue.name }, n);
    },
  });

  const http = new Histogram({
    name: 'kasparro_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const observeHttp: RequestHandler = (req, res, next) => {
    const end = http.startTimer();
    res.on('finish', () => {
      // The route pattern, not the URL: /runs/:run_id stays one series whatever the id.
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
  return { registry, observeHttp };
}
