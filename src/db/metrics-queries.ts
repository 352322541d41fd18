import type { Db } from './sql';

export interface RunTotals {
  source: string;
  status: string;
  runs: number;
  fetched: number;
  inserted: number;
  unchanged: number;
  invalid: number;
}

/** Per source and status: run counts and the records they processed. One aggregate over etl_runs. */
export async function runTotals(db: Db): Promise<RunTotals[]> {
  return db<RunTotals[]>`
    SELECT source, status, count(*)::int AS runs, sum(fetched)::float8 AS fetched, sum(inserted)::float8 AS inserted,
           sum(unchanged)::float8 AS unchanged, sum(invalid)::float8 AS invalid
      FROM etl_runs GROUP BY source, status`;
}

/** Durations of the most recent finished runs, for the duration histogram. */
export async function recentRunDurations(db: Db, limit = 2000): Promise<{ source: string; status: string; seconds: number }[]> {
  return db<{ source: string; status: string; seconds: number }[]>`
    SELECT source, status, extract(epoch FROM finished_at - started_at)::float8 AS seconds
      FROM etl_runs WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT ${limit}`;
}
