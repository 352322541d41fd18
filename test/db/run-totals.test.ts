import { addRunCounts, beginRun, finishRun, type RunStart } from '../../src/db/runs';
import { DURATION_RUNS, pipelineStats } from '../../src/db/stats-queries';
import type { Db } from '../../src/db/sql';
import { createTestDatabase, type TestDatabase } from '../support/database';

/** run_totals (sql/014) against an aggregate over etl_runs: what /stats, /health and /metrics read must be what is there. */
async function totals(db: Db) {
  return db`SELECT source, status, runs::int, fetched::int, inserted::int, unchanged::int, invalid::int
              FROM run_totals WHERE runs <> 0 ORDER BY source, status`;
}
async function aggregated(db: Db) {
  return db`SELECT source, status, count(*)::int AS runs, sum(fetched)::int AS fetched, sum(inserted)::int AS inserted,
                   sum(unchanged)::int AS unchanged, sum(invalid)::int AS invalid
              FROM etl_runs GROUP BY source, status ORDER BY source, status`;
}

const run = (runId: string, source: string): RunStart => ({
  runId, workflowId: `etl-${source}`, temporalRunId: runId, source, trigger: 'cli', failure: undefined,
});
const batch = { fetched: 100, inserted: 90, unchanged: 8, invalid: 2 };

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.drop();
});

test('When runs start, load batches, end, are reset and deleted, then the totals equal the aggregate over etl_runs', async () => {
  const { sql } = db;
  await beginRun(sql, run('r1', 'coingecko'));
  await addRunCounts(sql, 'r1', batch);
  await addRunCounts(sql, 'r1', batch);
  await finishRun(sql, { runId: 'r1', status: 'failed', error: 'injected' });
  await beginRun(sql, run('r2', 'csv'));
  await addRunCounts(sql, 'r2', batch);
  expect(await totals(sql)).toEqual(await aggregated(sql));

  // A reset: the failed run runs again under its id, with the counts it had, and succeeds.
  await beginRun(sql, run('r1', 'coingecko'));
  expect(await totals(sql)).toEqual(await aggregated(sql));
  await addRunCounts(sql, 'r1', batch);
  await finishRun(sql, { runId: 'r1', status: 'succeeded' });
  await sql`UPDATE etl_runs SET error = 'not counted' WHERE run_id = 'r2'`;
  expect(await totals(sql)).toEqual(await aggregated(sql));
  expect(await totals(sql)).toEqual([
    { source: 'coingecko', status: 'succeeded', runs: 1, fetched: 300, inserted: 270, unchanged: 24, invalid: 6 },
    { source: 'csv', status: 'running', runs: 1, fetched: 100, inserted: 90, unchanged: 8, invalid: 2 },
  ]);

  await sql`DELETE FROM etl_runs WHERE run_id = 'r2'`;
  expect(await totals(sql)).toEqual(await aggregated(sql));
  await sql`TRUNCATE etl_runs CASCADE`;
  expect(await totals(sql)).toEqual([]);
});

test('When a load that counted a batch rolls back, then the totals go back with it', async () => {
  const { sql } = db;
  await beginRun(sql, run('r1', 'coinpaprika'));
  await expect(
    sql.begin(async (tx) => {
      await addRunCounts(tx, 'r1', batch);
      throw new Error('the load fails after counting');
    }),
  ).rejects.toThrow('the load fails');
  expect(await totals(sql)).toEqual([{ source: 'coinpaprika', status: 'running', runs: 1, fetched: 0, inserted: 0, unchanged: 0, invalid: 0 }]);
});

test('When a source has more finished runs than /stats takes durations from, then the oldest are left out', async () => {
  const { sql } = db;
  // The oldest run took a day; the DURATION_RUNS after it a minute each.
  await sql`
    INSERT INTO etl_runs (run_id, workflow_id, temporal_run_id, source, trigger, status, started_at, finished_at)
    SELECT 'r' || g, 'etl-csv', 'r' || g, 'csv', 'schedule', 'succeeded',
           timestamptz '2026-01-01' + g * interval '1 hour',
           timestamptz '2026-01-01' + g * interval '1 hour' + CASE WHEN g = 0 THEN interval '1 day' ELSE interval '1 minute' END
      FROM generate_series(0, ${DURATION_RUNS}) g`;
  const stats = await pipelineStats(sql, ['csv']);
  const csv = stats.sources.find((s) => s.source === 'csv');
  expect(csv?.runs.succeeded).toBe(DURATION_RUNS + 1);
  expect(csv?.duration_seconds).toEqual({ average: 60, p95: 60 });
  expect(stats.overall.duration_seconds).toEqual({ average: 60, p95: 60 });
  expect(csv?.last_success_at).toEqual(new Date(Date.parse('2026-01-01T00:01:00Z') + DURATION_RUNS * 3_600_000));
});
