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

/** Per source and status: run counts and the records they processed, as kept in run_totals (sql/014). */
export async function runTotals(db: Db): Promise<RunTotals[]> {
  return db<RunTotals[]>`
    SELECT source, status, runs::int, fetched::float8, inserted::float8, unchanged::float8, invalid::float8
      FROM run_totals WHERE runs > 0`;
}

/** Durations of the most recent finished runs, for the duration histogram. */
export async function recentRunDurations(db: Db, limit = 2000): Promise<{ source: string; status: string; seconds: number }[]> {
  return db<{ source: string; status: string; seconds: number }[]>`
    SELECT source, status, extract(epoch FROM finished_at - started_at)::float8 AS seconds
      FROM etl_runs WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT ${limit}`;
}
