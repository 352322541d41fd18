import type { Client } from '@temporalio/client';
import { describeChange, summaryOfRow } from '../../src/contracts/attribution';
import type { ChangeFeed } from '../../src/db/change-feed';
import { lastRunPerSource, type LastRun } from '../../src/db/run-queries';
import { openBreakingChanges, type OpenBreakingChange as OpenChange } from '../../src/db/schema-change-queries';
import { ping } from '../../src/db/stats-queries';
import { RUN_STATUSES } from '../../src/shared/types';
import { SOURCE_NAMES } from '../../src/sources';
import { livePollers } from '../../src/temporal/pollers';
import type { ApiDeps } from '../deps';
import { envelope } from '../middleware/request-context';
import { readCache } from '../read-cache';
import { defineRoute } from '../route';
import { Envelope } from '../schemas';
import { nullableTimestamp } from '../schemas-runs';
import { OpenBreakingChange } from '../schemas-schema-changes';
import { z } from '../zod';

/** Each dependency gets this long to answer: a dead one makes /health say so, never hang. */
const CHECK_TIMEOUT_MS = 2_000;
/**
 * How long one round of checks (three queries, two Temporal calls: ~20 ms) is reused, if API_READ_CACHE_MS is
 * not shorter. Probes and dashboards asking many times a second then share one round; past it, the next round
 * runs while the last answers (api/read-cache.ts), so no answer is older than two seconds, well within any
 * probe's period and failure threshold. Nothing is reused across a lost database connection: from the moment
 * the change feed's connection drops until it is back, every request checks again, so an outage of PostgreSQL
 * shorter than the reuse still shows as 503.
 */
const REUSE_MS = 1_000;

const Check = z.object({
  status: z.enum(['ok', 'fail']),
  latency_ms: z.number(),
  detail: z.string(),
});
type Check = z.infer<typeof Check>;

export const HealthResponse = Envelope.extend({
  status: z.enum(['ok', 'degraded', 'fail']).openapi({
    description: 'fail (503): a check failed; degraded (200): every check passed, but a breaking schema change is open',
  }),
  message: z.string().openapi({
    example: 'degraded: coingecko current_price missing; current_price_renamed present (confidence 0.93) (open schema change 3)',
  }),
  failed: z.array(z.enum(['database', 'temporal', 'worker'])),
  checks: z.object({
    database: Check,
    temporal: Check,
    worker: Check.extend({ pollers: z.number().int().nullable() }).openapi({
      description: 'workers polling the workflow task queue',
    }),
    schema_changes: Check.extend({
      status: z.enum(['ok', 'degraded', 'fail']),
      open: z.array(OpenBreakingChange).nullable().openapi({ description: 'null when the database cannot say' }),
    }).openapi({
      description:
        'open breaking schema changes: records of their sources are held back until each is accepted or ignored. ' +
        'fail: they could not be read (the database check says why); not a failure of the service by itself',
    }),
  }),
  last_runs: z
    .array(
      z.object({
        source: z.string(),
        run_id: z.string().nullable(),
        status: z.enum(RUN_STATUSES).nullable(),
        started_at: nullableTimestamp,
        finished_at: nullableTimestamp,
        age_seconds: z.number().nullable().openapi({ description: 'since the run started' }),
      }),
    )
    .nullable()
    .openapi({ description: 'the newest run of each source; null when the database cannot say' }),
}).openapi('Health');

/**
 * `changes`: nothing is reused across a lost database connection. `probe`: the client the Temporal checks ask
 * through, one attempt per call (src/temporal/probe.ts); without it, the API's own client.
 */
export function healthRoute(deps: ApiDeps, { changes, probe }: { changes?: ChangeFeed | undefined; probe?: Client | undefined } = {}) {
  const reused = readCache<Awaited<ReturnType<typeof checkEverything>>>(
    Math.min(deps.readCacheMs, REUSE_MS),
    changes ? { version: changes.connection } : {},
  );
  return defineRoute({
    method: 'get',
    path: '/health',
    summary: 'Liveness of PostgreSQL, Temporal and the workers, open breaking schema changes, and the last run of each source',
    tags: ['operations'],
    responses: {
      200: { description: 'every check passed; degraded while a breaking schema change is open', schema: HealthResponse },
      503: { description: 'a check failed: the body names it', schema: HealthResponse },
    },
    async handler({ req }) {
      const { status, body } = await reused('health', () => checkEverything(deps, probe ?? deps.temporal.client));
      return { status, body: { ...envelope(req), ...body } };
    },
  });
}

/** One round of checks: the status code and the body without the request's envelope. */
async function checkEverything(deps: ApiDeps, client: Client) {
  const { namespace, taskQueue } = deps.temporal;
  const [database, frontend, pollers, lastRuns, openChanges] = await Promise.all([
    within(() => ping(deps.sql)),
    within(() => client.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () => client.workflowService.describeNamespace({ namespace }))),
    within(async () => (await livePollers(client, { ...deps.temporal, timeoutMs: CHECK_TIMEOUT_MS })).length),
    within(() => lastRunPerSource(deps.sql)),
    within(() => openBreakingChanges(deps.sql)),
  ]);
  const checks = {
    database: check(database, () => ({ ok: true, detail: 'SELECT 1 answered' })),
    temporal: check(frontend, () => ({ ok: true, detail: `namespace ${namespace} answered` })),
    worker: {
      ...check(pollers, (n) =>
        n > 0
          ? { ok: true, detail: `${n} poller(s) on task queue ${taskQueue}` }
          : { ok: false, detail: `no worker is polling task queue ${taskQueue}` },
      ),
      pollers: pollers.ok ? pollers.value : null,
    },
    schema_changes: {
      ...check(openChanges, (open) => ({
        ok: true,
        detail: open.length === 0 ? 'no breaking schema change is open' : `${open.length} breaking schema change(s) open`,
      })),
      ...(openChanges.ok && openChanges.value.length > 0 ? { status: 'degraded' as const } : {}),
      open: openChanges.ok ? openChanges.value : null,
    },
  };
  // A failed check wins; an open breaking change degrades an otherwise healthy service, still 200.
  const failed = (['database', 'temporal', 'worker'] as const).filter((name) => checks[name].status === 'fail');
  const open = openChanges.ok ? openChanges.value : [];
  return {
    status: failed.length === 0 ? 200 : 503,
    body: {
      status: failed.length > 0 ? 'fail' : open.length > 0 ? 'degraded' : 'ok',
      message:
        failed.length > 0 ? `unhealthy: ${failed.join(', ')}` : open.length > 0 ? `degraded: ${open.map(describeOpen).join('; ')}` : 'healthy',
      failed,
      checks,
      last_runs: lastRuns.ok ? SOURCE_NAMES.map((source) => lastRunOf(source, lastRuns.value.find((r) => r.source === source))) : null,
    },
  };
}

type Outcome<T> = { ok: true; value: T; latencyMs: number } | { ok: false; detail: string; latencyMs: number };

/** Runs `work` within CHECK_TIMEOUT_MS; an error or no answer in time is an outcome, not an exception. */
async function within<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, value, latencyMs: elapsed() };
  } catch (err) {
    return { ok: false, detail: failure(err), latencyMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}

function check<T>(outcome: Outcome<T>, judge: (value: T) => { ok: boolean; detail: string }): Check {
  if (!outcome.ok) return { status: 'fail', latency_ms: outcome.latencyMs, detail: outcome.detail };
  const { ok, detail } = judge(outcome.value);
  return { status: ok ? 'ok' : 'fail', latency_ms: outcome.latencyMs, detail };
}

/** What went wrong, without addresses: a socket error's code, otherwise the first line of the message. */
function failure(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return `unreachable (${code})`;
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}

/** `coingecko current_price missing; current_price_renamed present (confidence 0.93) (open schema change 3)` */
const describeOpen = (c: OpenChange) => `${c.source} ${describeChange(summaryOfRow(c))} (open schema change ${c.id})`;

function lastRunOf(source: string, run: LastRun | undefined) {
  return {
    source,
    run_id: run?.run_id ?? null,
    status: run?.status ?? null,
    started_at: run?.started_at ?? null,
    finished_at: run?.finished_at ?? null,
    age_seconds: run ? Math.round(run.age_seconds * 10) / 10 : null,
  };
}
