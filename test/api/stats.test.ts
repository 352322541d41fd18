import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { SOURCE_NAMES } from '../../src/sources';
import { createApiContext, type ApiContext } from '../support/api';
import { ingest } from '../support/ingest';

let ctx: ApiContext;

beforeAll(async () => {
  ctx = await createApiContext();
});
afterAll(async () => {
  await ctx?.close();
});

/** percentile_cont: linear interpolation between the closest ranks. */
function percentileCont(values: number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = fraction * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (position - low);
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** What /stats should say for the runs and rows matching `where`, computed here from plain SQL. */
async function expectedStats(source: string | null) {
  const sql = ctx.db.sql;
  const bySource = source === null ? sql`` : sql`WHERE source = ${source}`;
  const runs = await sql<
    { run_id: string; status: string; fetched: number; started_at: Date; finished_at: Date | null; duration: number | null }[]
  >`SELECT run_id, status, fetched, started_at, finished_at, extract(epoch FROM finished_at - started_at)::float8 AS duration
      FROM etl_runs ${bySource} ORDER BY started_at DESC, run_id DESC`;
  const count = async (table: 'raw_payloads' | 'quotes' | 'quarantine') =>
    (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ${sql(table)} ${bySource}`)[0]?.n;
  const durations = runs.flatMap((r) => (r.duration === null ? [] : [r.duration]));
  const latest = (status: string, at: (r: (typeof runs)[number]) => Date | null) =>
    runs.filter((r) => r.status === status).map(at).sort((a, b) => (b?.getTime() ?? 0) - (a?.getTime() ?? 0))[0] ?? null;
  return {
    runs: {
      total: runs.length,
      succeeded: runs.filter((r) => r.status === 'succeeded').length,
      failed: runs.filter((r) => r.status === 'failed').length,
      cancelled: runs.filter((r) => r.status === 'cancelled').length,
      running: runs.filter((r) => r.status === 'running').length,
    },
    records_processed: runs.reduce((sum, r) => sum + r.fetched, 0),
    last_success_at: iso(latest('succeeded', (r) => r.finished_at)),
    last_failure_at: iso(latest('failed', (r) => r.finished_at ?? r.started_at)),
    average: durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null,
    p95: percentileCont(durations, 0.95),
    last_run_id: runs[0]?.run_id ?? null,
    rows: { raw: await count('raw_payloads'), normalized: await count('quotes'), quarantined: await count('quarantine') },
  };
}

function expectMatches(actual: Record<string, unknown> & { duration_seconds: { average: number | null; p95: number | null } }, expected: Awaited<ReturnType<typeof expectedStats>>) {
  const { average, p95, last_run_id, ...plain } = expected;
  expect(actual).toMatchObject(plain);
  if (average === null) expect(actual.duration_seconds.average).toBeNull();
  else expect(actual.duration_seconds.average).toBeCloseTo(average, 6);
  if (p95 === null) expect(actual.duration_seconds.p95).toBeNull();
  else expect(actual.duration_seconds.p95).toBeCloseTo(p95, 6);
  expect((actual.last_run as { run_id: string } | null)?.run_id ?? null).toBe(last_run_id);
}

describe('GET /stats', () => {
  test('When nothing has run yet, then every registered source is listed with zero runs, zero rows and no times', async () => {
    const res = await request(ctx.app).get('/stats').expect(200);
    expect(res.body.sources.map((s: { source: string }) => s.source)).toEqual([...SOURCE_NAMES].sort());
    for (const stats of [res.body.overall, ...res.body.sources]) {
      expect(stats).toMatchObject({
        runs: { total: 0, succeeded: 0, failed: 0, cancelled: 0, running: 0 },
        records_processed: 0,
        last_success_at: null,
        last_failure_at: null,
        duration_seconds: { average: null, p95: null },
        last_run: null,
        rows: { raw: 0, normalized: 0, quarantined: 0 },
      });
    }
  });

  describe('after two or more runs of every source', () => {
    beforeAll(async () => {
      const { db, sources, simulator } = ctx;
      await ingest(db.sql, sources, 'coingecko');
      await ingest(db.sql, sources, 'coinpaprika');
      await ingest(db.sql, sources, 'csv');
      simulator.tick();
      // Schema drift on the first page: those records are quarantined.
      simulator.setFault({ kind: 'missing-field', source: 'coingecko', field: 'current_price' });
      await ingest(db.sql, sources, 'coingecko');
      await ingest(db.sql, sources, 'coinpaprika');
      await ingest(db.sql, sources, 'csv');
      // A failed run and a run in flight, as the workflow records them.
      await db.sql`
        INSERT INTO etl_runs (run_id, workflow_id, temporal_run_id, source, trigger, status, started_at, finished_at, fetched, error)
        VALUES (${randomUUID()}, 'etl-coinpaprika', 'x', 'coinpaprika', 'schedule', 'failed', now() - interval '40 seconds',
                now() - interval '10 seconds', 120, 'upstream answered 500'),
               (${randomUUID()}, 'etl-csv', 'y', 'csv', 'api', 'running', now(), NULL, 5, NULL)`;
    });

    test('When called, then each source has its runs, records, times, durations and row counts as the tables say', async () => {
      const res = await request(ctx.app).get('/stats').expect(200);
      expect(res.body.sources.map((s: { source: string }) => s.source)).toEqual([...SOURCE_NAMES].sort());
      for (const stats of res.body.sources) {
        const expected = await expectedStats(stats.source);
        expect(expected.runs.total).toBeGreaterThanOrEqual(2);
        expectMatches(stats, expected);
      }
      const gecko = res.body.sources.find((s: { source: string }) => s.source === 'coingecko');
      expect(gecko.rows.quarantined).toBeGreaterThan(0);
      const paprika = res.body.sources.find((s: { source: string }) => s.source === 'coinpaprika');
      expect(paprika.runs.failed).toBe(1);
      expect(paprika.last_failure_at).not.toBeNull();
    });

    test('When called, then the overall figures cover every run and row', async () => {
      const res = await request(ctx.app).get('/stats').expect(200);
      expectMatches(res.body.overall, await expectedStats(null));
      expect(res.body.overall.runs.total).toBe(8);
      expect(res.body.overall.records_processed).toBe(
        res.body.sources.reduce((sum: number, s: { records_processed: number }) => sum + s.records_processed, 0),
      );
    });

    test("When called, then each source's last run carries its metadata: id, status, times, counts and error", async () => {
      const res = await request(ctx.app).get('/stats').expect(200);
      for (const stats of res.body.sources) {
        const [row] = await ctx.db.sql<
          { run_id: string; status: string; started_at: Date; finished_at: Date | null; fetched: number; inserted: number; unchanged: number; invalid: number; error: string | null }[]
        >`SELECT run_id, status, started_at, finished_at, fetched, inserted, unchanged, invalid, error
            FROM etl_runs WHERE source = ${stats.source} ORDER BY started_at DESC LIMIT 1`;
        expect(row).toBeDefined();
        if (!row) continue;
        expect(stats.last_run).toMatchObject({
          run_id: row.run_id,
          status: row.status,
          started_at: row.started_at.toISOString(),
          finished_at: iso(row.finished_at),
          counts: { fetched: row.fetched, inserted: row.inserted, unchanged: row.unchanged, invalid: row.invalid },
          error: row.error,
        });
      }
      expect(res.body.sources.find((s: { source: string }) => s.source === 'csv').last_run.status).toBe('running');
    });

    test('When called, then the envelope carries the request id and the latency', async () => {
      const res = await request(ctx.app).get('/stats').set('X-Request-Id', 'stats-check-1').expect(200);
      expect(res.body.request_id).toBe('stats-check-1');
      expect(res.body.api_latency_ms).toBeGreaterThanOrEqual(0);
    });
  });
});
