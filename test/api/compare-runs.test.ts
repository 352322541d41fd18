import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createApiContext, type ApiContext } from '../support/api';
import { ingest } from '../support/ingest';

let ctx: ApiContext;
/** r1: CoinGecko's first page unusable (schema drift); tick; r2: clean; r3: the first page unusable again. */
let r1: string;
let r2: string;
let r3: string;
let paprika: string;
let failed: string;
/** CoinGecko ids on the first page while r3 ran (COINGECKO_PAGE_SIZE defaults to 250). */
let firstPageAtR3: string[];

beforeAll(async () => {
  ctx = await createApiContext();
  const { db, sources, simulator } = ctx;
  const drift = () => simulator.setFault({ kind: 'missing-field', source: 'coingecko', field: 'current_price' });
  drift();
  r1 = (await ingest(db.sql, sources, 'coingecko')).runId;
  simulator.tick();
  r2 = (await ingest(db.sql, sources, 'coingecko')).runId;
  drift();
  r3 = (await ingest(db.sql, sources, 'coingecko')).runId;
  firstPageAtR3 = simulator.market.view().geckoPage(1, 250).map((coin) => coin.id);
  paprika = (await ingest(db.sql, sources, 'coinpaprika')).runId;
  failed = randomUUID();
  await db.sql`
    INSERT INTO etl_runs (run_id, workflow_id, temporal_run_id, source, trigger, status, finished_at, fetched, error)
    VALUES (${failed}, 'etl-coingecko', ${failed}, 'coingecko', 'schedule', 'failed', now(), 0, 'upstream answered 500')`;
});
afterAll(async () => {
  await ctx?.close();
});

function compare(run_id_1: string, run_id_2: string) {
  return request(ctx.app).get('/compare-runs').query({ run_id_1, run_id_2 });
}

async function runRow(runId: string) {
  const [row] = await ctx.db.sql<
    { fetched: number; inserted: number; unchanged: number; invalid: number; batches: number; status: string; duration: number | null }[]
  >`SELECT fetched, inserted, unchanged, invalid, batches, status, extract(epoch FROM finished_at - started_at)::float8 AS duration
      FROM etl_runs WHERE run_id = ${runId}`;
  if (!row) throw new Error(`no run ${runId}`);
  return row;
}

type Listing = { source_asset_id: string };

describe('GET /compare-runs', () => {
  test('When two runs of one source are compared, then both are shown with the deltas of their counts, duration and status', async () => {
    const res = await compare(r1, r2).expect(200);
    const [a, b] = [await runRow(r1), await runRow(r2)];
    expect(res.body.source).toBe('coingecko');
    expect(res.body.run_1).toMatchObject({ run_id: r1, counts: { fetched: a.fetched, invalid: a.invalid } });
    expect(res.body.run_2).toMatchObject({ run_id: r2, counts: { fetched: b.fetched, invalid: b.invalid } });
    expect(res.body.deltas).toMatchObject({
      counts: { fetched: b.fetched - a.fetched, inserted: b.inserted - a.inserted, unchanged: b.unchanged - a.unchanged, invalid: b.invalid - a.invalid },
      batches: b.batches - a.batches,
      // Run 1 held the drifted page back: degraded, not a success (src/db/run-outcome.ts).
      status: { from: 'degraded', to: 'succeeded', changed: true },
    });
    expect(res.body.deltas.duration_seconds).toBeCloseTo((b.duration ?? NaN) - (a.duration ?? NaN), 2);
    expect(a.invalid).toBeGreaterThan(0); // the drifted page really was quarantined
    expect(res.body.request_id).toBe(res.headers['x-request-id']);
    expect(typeof res.body.api_latency_ms).toBe('number');
  });

  test('When prices moved between the runs, then the 10 biggest moves are listed by |percent change|, as the quotes of each run say', async () => {
    const res = await compare(r1, r2).expect(200);
    const expected = await ctx.db.sql<{ source_asset_id: string; p1: number; p2: number; pct: number }[]>`
      SELECT q2.source_asset_id, q1.price_usd::float8 AS p1, q2.price_usd::float8 AS p2,
             ((q2.price_usd - q1.price_usd) / q1.price_usd * 100)::float8 AS pct
        FROM quotes q1 JOIN quotes q2 ON q2.source = q1.source AND q2.source_asset_id = q1.source_asset_id
       WHERE q1.run_id = ${r1} AND q2.run_id = ${r2} AND q1.price_usd > 0 AND q2.price_usd <> q1.price_usd
       ORDER BY abs((q2.price_usd - q1.price_usd) / q1.price_usd) DESC, q2.source_asset_id`;
    expect(expected.length).toBeGreaterThan(10);
    const moves = res.body.changes.price_moves;
    expect(moves.changed).toBe(expected.length);
    expect(moves.top.map((m: Listing) => m.source_asset_id)).toEqual(expected.slice(0, 10).map((e) => e.source_asset_id));
    moves.top.forEach((move: { price_usd_1: number; price_usd_2: number; change_pct: number }, i: number) => {
      expect(move.price_usd_1).toBe(expected[i]?.p1);
      expect(move.price_usd_2).toBe(expected[i]?.p2);
      expect(move.change_pct).toBeCloseTo(expected[i]?.pct ?? NaN, 9);
    });
  });

  test('When run 2 reads listings no earlier run had quoted, then they are listed as added', async () => {
    const res = await compare(r1, r2).expect(200);
    const expected = await ctx.db.sql<{ source_asset_id: string }[]>`
      SELECT DISTINCT source_asset_id FROM quotes
       WHERE source = 'coingecko' AND run_id = ${r2}
         AND source_asset_id NOT IN (SELECT source_asset_id FROM quotes WHERE run_id = ${r1})`;
    const added = res.body.changes.added;
    expect(added.total).toBe(expected.length);
    expect(added.total).toBe((await runRow(r1)).invalid); // exactly the listings r1 had to quarantine
    expect(added.items).toHaveLength(Math.min(100, expected.length));
    const ids = new Set(expected.map((e) => e.source_asset_id));
    for (const item of added.items) expect(ids.has(item.source_asset_id)).toBe(true);
    expect(added.items[0]).toEqual({ source_asset_id: expect.any(String), asset_id: expect.any(String), symbol: expect.any(String), name: expect.any(String) });
    expect(res.body.changes.missing).toEqual({ total: 0, items: [] });
  });

  test('When run 2 could not read listings run 1 had, then they are listed as missing', async () => {
    const res = await compare(r2, r3).expect(200);
    const missing = res.body.changes.missing;
    expect(missing.total).toBe(firstPageAtR3.length);
    expect(missing.total).toBe((await runRow(r3)).invalid);
    const page = new Set(firstPageAtR3);
    for (const item of missing.items) expect(page.has(item.source_asset_id)).toBe(true);
    expect(missing.items).toHaveLength(100);
    expect(res.body.changes.added).toEqual({ total: 0, items: [] });
    // No tick between r2 and r3: nothing moved.
    expect(res.body.changes.price_moves).toEqual({ changed: 0, top: [] });
  });

  test('When run 2 failed having read nothing, then the status change is shown and every listing of run 1 is missing', async () => {
    const res = await compare(r2, failed).expect(200);
    const b = await runRow(r2);
    expect(res.body.deltas.status).toEqual({ from: 'succeeded', to: 'failed', changed: true });
    expect(res.body.deltas.counts.fetched).toBe(-b.fetched);
    expect(res.body.run_2).toMatchObject({ status: 'failed', error: 'upstream answered 500' });
    expect(res.body.changes.missing.total).toBe(b.fetched - b.invalid);
  });

  test('When the runs are of different sources, then 400 says so', async () => {
    const res = await compare(r1, paprika).expect(400);
    expect(res.body.error).toBe('bad_request');
    expect(res.body.message).toContain('coingecko');
    expect(res.body.message).toContain('coinpaprika');
    expect(res.body.details).toEqual([{ field: 'run_id_2', reason: expect.stringContaining('only runs of one source') }]);
  });

  test('When either run is unknown, then 404 names which', async () => {
    const unknown = randomUUID();
    expect((await compare(r1, unknown).expect(404)).body.message).toBe(`run_id_2: run ${unknown} not found`);
    expect((await compare(unknown, r1).expect(404)).body.message).toBe(`run_id_1: run ${unknown} not found`);
  });

  test.each([
    [{ run_id_1: '0198c2b4-3f3a-7c1e-9d52-8e1f0a6b4c21' }, ['run_id_2']],
    [{ run_id_2: '0198c2b4-3f3a-7c1e-9d52-8e1f0a6b4c21' }, ['run_id_1']],
    [{}, ['run_id_1', 'run_id_2']],
    [{ run_id_1: 'abc', run_id_2: '0198c2b4-3f3a-7c1e-9d52-8e1f0a6b4c21' }, ['run_id_1']],
    [{ run_id_1: '0198c2b4-3f3a-7c1e-9d52-8e1f0a6b4c21', run_id_2: "1' OR '1'='1" }, ['run_id_2']],
  ])('When the query is %j, then 400 names %j', async (query, fields) => {
    const res = await request(ctx.app).get('/compare-runs').query(query).expect(400);
    expect(res.body.error).toBe('bad_request');
    expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual(fields);
  });
});
