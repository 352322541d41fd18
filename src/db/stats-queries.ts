import { lastRunPerSource, type RunView } from './run-queries';
import type { Db } from './sql';

/** Operational read side for the API: pipeline statistics per source and overall, and a database ping. */

export interface PipelineStats {
  runs: { total: number; succeeded: number; degraded: number; failed: number; cancelled: number; running: number };
  /** Sum of records fetched over every run. */
  records_processed: number;
  last_success_at: Date | null;
  /** When the last failed run failed (its start if it never recorded a finish). */
  last_failure_at: Date | null;
  /** Over each source's DURATION_RUNS newest finished runs (succeeded, degraded, failed or cancelled). */
  duration_seconds: { average: number | null; p95: number | null };
  last_run: RunView | null;
  rows: { raw: number; normalized: number; quarantined: number };
}

export interface StatsReport {
  overall: PipelineStats;
  sources: (PipelineStats & { source: string })[];
}

interface AggregateRow {
  /** null on the overall row. */
  source: string | null;
  total: number;
  succeeded: number;
  degraded: number;
  failed: number;
  cancelled: number;
  running: number;
  records_processed: number;
  last_success_at: Date | null;
  last_failure_at: Date | null;
  average_duration: number | null;
  p95_duration: number | null;
  raw: number;
  normalized: number;
  quarantined: number;
}

/** Durations are taken over this many of each source's newest finished runs: recent behaviour, at any age. */
export const DURATION_RUNS = 1_000;

/**
 * Every figure in one statement, per source plus a grand total (GROUPING SETS), and the newest run of each
 * source in a second. Nothing here reads more than a bounded number of rows, whatever the history: counts come
 * from run_totals and row_counts (kept by the writing transactions, sql/012 and sql/014), the newest success and
 * failure from an index, durations from each source's DURATION_RUNS newest finished runs. `sources` (the
 * registry's names) are listed even before their first run.
 */
export async function pipelineStats(db: Db, sources: readonly string[]): Promise<StatsReport> {
  const [aggregates, lastRuns] = await Promise.all([
    db<AggregateRow[]>`
      WITH keys AS (
        SELECT unnest(${sources as string[]}::text[]) AS source
        UNION SELECT source FROM run_totals
        UNION SELECT source FROM row_counts
      ), runs AS (
        SELECT CASE WHEN grouping(source) = 0 THEN source END AS source,
               coalesce(sum(runs), 0)::int AS total,
               coalesce(sum(runs) FILTER (WHERE status = 'succeeded'), 0)::int AS succeeded,
               coalesce(sum(runs) FILTER (WHERE status = 'degraded'), 0)::int AS degraded,
               coalesce(sum(runs) FILTER (WHERE status = 'failed'), 0)::int AS failed,
               coalesce(sum(runs) FILTER (WHERE status = 'cancelled'), 0)::int AS cancelled,
               coalesce(sum(runs) FILTER (WHERE status = 'running'), 0)::int AS running,
               coalesce(sum(fetched), 0)::float8 AS records_processed
          FROM run_totals GROUP BY GROUPING SETS ((source), ())
      ), ends AS (
        SELECT CASE WHEN grouping(k.source) = 0 THEN k.source END AS source,
               max(e.last_success_at) AS last_success_at, max(e.last_failure_at) AS last_failure_at
          FROM keys k CROSS JOIN LATERAL (
            SELECT (SELECT max(coalesce(finished_at, started_at)) FROM etl_runs
                     WHERE source = k.source AND status = 'succeeded') AS last_success_at,
                   (SELECT max(coalesce(finished_at, started_at)) FROM etl_runs
                     WHERE source = k.source AND status = 'failed') AS last_failure_at) e
         GROUP BY GROUPING SETS ((k.source), ())
      ), durations AS (
        SELECT CASE WHEN grouping(k.source) = 0 THEN k.source END AS source,
               avg(d.seconds)::float8 AS average_duration,
               (percentile_cont(0.95) WITHIN GROUP (ORDER BY d.seconds))::float8 AS p95_duration
          FROM keys k CROSS JOIN LATERAL (
            SELECT extract(epoch FROM finished_at - started_at)::float8 AS seconds FROM etl_runs
             WHERE source = k.source AND finished_at IS NOT NULL
             ORDER BY started_at DESC LIMIT ${DURATION_RUNS}) d
         GROUP BY GROUPING SETS ((k.source), ())
      ), counts AS (
        -- Kept by the writing transactions (sql/012): reading them costs the same at any size of history.
        SELECT CASE WHEN grouping(source) = 0 THEN source END AS source,
               coalesce(sum(n) FILTER (WHERE table_name = 'raw_payloads'), 0)::float8 AS raw,
               coalesce(sum(n) FILTER (WHERE table_name = 'quotes'), 0)::float8 AS normalized,
               coalesce(sum(n) FILTER (WHERE table_name = 'quarantine'), 0)::float8 AS quarantined
          FROM row_counts GROUP BY GROUPING SETS ((source), ())
      ), lines AS (
        SELECT source FROM keys UNION ALL SELECT NULL
      )
      SELECT k.source,
             coalesce(r.total, 0) AS total, coalesce(r.succeeded, 0) AS succeeded, coalesce(r.degraded, 0) AS degraded,
             coalesce(r.failed, 0) AS failed,
             coalesce(r.cancelled, 0) AS cancelled, coalesce(r.running, 0) AS running,
             coalesce(r.records_processed, 0) AS records_processed, e.last_success_at, e.last_failure_at,
             d.average_duration, d.p95_duration,
             coalesce(c.raw, 0) AS raw, coalesce(c.normalized, 0) AS normalized, coalesce(c.quarantined, 0) AS quarantined
        FROM lines k
        LEFT JOIN runs r ON r.source IS NOT DISTINCT FROM k.source
        LEFT JOIN ends e ON e.source IS NOT DISTINCT FROM k.source
        LEFT JOIN durations d ON d.source IS NOT DISTINCT FROM k.source
        LEFT JOIN counts c ON c.source IS NOT DISTINCT FROM k.source
       ORDER BY k.source NULLS FIRST`,
    lastRunPerSource(db),
  ]);

  const lastRunOf = new Map(lastRuns.map(({ age_seconds: _, ...run }) => [run.source, run]));
  const newest = [...lastRunOf.values()].reduce<RunView | null>(
    (a, b) => (a === null || b.started_at > a.started_at ? b : a),
    null,
  );
  const toStats = (row: AggregateRow, lastRun: RunView | null): PipelineStats => ({
    runs: { total: row.total, succeeded: row.succeeded, degraded: row.degraded, failed: row.failed, cancelled: row.cancelled, running: row.running },
    records_processed: row.records_processed,
    last_success_at: row.last_success_at,
    last_failure_at: row.last_failure_at,
    duration_seconds: { average: row.average_duration, p95: row.p95_duration },
    last_run: lastRun,
    rows: { raw: row.raw, normalized: row.normalized, quarantined: row.quarantined },
  });

  const overallRow = aggregates.find((row) => row.source === null);
  if (!overallRow) throw new Error('pipelineStats: the overall row is missing');
  return {
    overall: toStats(overallRow, newest),
    sources: aggregates.flatMap((row) =>
      row.source === null ? [] : [{ source: row.source, ...toStats(row, lastRunOf.get(row.source) ?? null) }],
    ),
  };
}

/** Round trip to the database, for /health. */
export async function ping(db: Db): Promise<void> {
  await db`SELECT 1`;
}
