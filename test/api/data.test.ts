import request from 'supertest';
import type { Express } from 'express';
import { HISTORY_COUNT_LIMIT } from '../../src/db/quote-queries';
import { appWithReadCache, createApiContext, type ApiContext } from '../support/api';
import { recordResponses } from '../support/conformance';
import { eventually } from '../support/eventually';
import type { TestDatabase } from '../support/database';
import { ingest } from '../support/ingest';

let ctx: ApiContext;
let db: TestDatabase;
let app: Express;

beforeAll(async () => {
  ctx = await createApiContext();
  ({ db, app } = ctx);
  await ingest(db.sql, ctx.sources, 'coingecko');
  await ingest(db.sql, ctx.sources, 'coinpaprika');
  ctx.simulator.tick();
  await ingest(db.sql, ctx.sources, 'coingecko'); // a second observation: history
});
afterAll(async () => {
  await ctx?.close();
});

describe('GET /data', () => {
  test('When called without parameters, then it returns the latest quote per asset and source, biggest market cap first', async () => {
    const res = await request(app).get('/data').expect(200);
    expect(res.body.data).toHaveLength(50);
    expect(res.body.pagination).toMatchObject({ limit: 50, offset: 0 });
    const [listings] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM (SELECT DISTINCT source, source_asset_id FROM quotes) d`;
    expect(res.body.pagination.total).toBe(listings?.n);
    expect(res.body.pagination.total_exact).toBe(true);
    const caps = res.body.data.map((q: { market_cap_usd: number | null }) => q.market_cap_usd ?? -1);
    expect(caps).toEqual([...caps].sort((a, b) => b - a));
    expect(typeof res.body.request_id).toBe('string');
    expect(res.headers['x-request-id']).toBe(res.body.request_id);
  });

  test('When following next_cursor to the end, then every listing is served exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: request.Response = await request(app).get('/data').query({ limit: 97, ...(cursor ? { cursor } : {}) }).expect(200);
      for (const q of res.body.data) seen.push(`${q.source}/${q.source_asset_id}`);
      cursor = res.body.pagination.next_cursor;
      pages++;
    } while (cursor && pages < 100);
    const total = (await request(app).get('/data').expect(200)).body.pagination.total;
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  test('When filtering by symbol (any case) and source, then only those quotes come back', async () => {
    const res = await request(app).get('/data').query({ symbol: 'btc', source: 'coingecko' }).expect(200);
    expect(res.body.data.length).toBeGreaterThan(0);
    expect(res.body.data.every((q: { symbol: string; source: string }) => q.symbol === 'BTC' && q.source === 'coingecko')).toBe(true);
  });

  test('When searching with q, then name and symbol match case-insensitively and wildcards are literal', async () => {
    const res = await request(app).get('/data').query({ q: 'bitcoin' }).expect(200);
    expect(res.body.data.map((q: { name: string }) => q.name)).toEqual(expect.arrayContaining(['Bitcoin']));
    const literal = await request(app).get('/data').query({ q: '%' }).expect(200);
    expect(literal.body.data).toHaveLength(0);
    const injection = await request(app).get('/data').query({ q: "'; DROP TABLE quotes; --" }).expect(200);
    expect(injection.body.data).toHaveLength(0);
    expect((await db.sql`SELECT 1 FROM quotes LIMIT 1`).length).toBe(1);
  });

  test('When from and to have offsets, then they are compared as instants, not as text', async () => {
    // 10:00+05:00 is 05:00Z, before 06:00Z; as text it sorts after.
    await request(app).get('/data').query({ from: '2026-01-01T10:00:00+05:00', to: '2026-01-01T06:00:00Z' }).expect(200);
  });

  test('When from/to are given, then history is returned, oldest observations included', async () => {
    const res = await request(app).get('/data').query({ symbol: 'BTC', source: 'coingecko', from: '2020-01-01T00:00:00Z', sort: 'observed_at_asc' }).expect(200);
    const [btc] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM quotes WHERE source = 'coingecko' AND symbol = 'BTC'`;
    expect(res.body.pagination.total).toBe(btc?.n);
    const times = res.body.data.map((q: { observed_at: string }) => q.observed_at);
    expect(times).toEqual([...times].sort());
  });

  test('When asset_id is given, then every source of that asset is returned', async () => {
    const [btc] = await db.sql<{ asset_id: string }[]>`SELECT asset_id::text FROM asset_mappings WHERE source = 'coingecko' AND source_asset_id = 'bitcoin'`;
    const res = await request(app).get('/data').query({ asset_id: btc?.asset_id }).expect(200);
    expect(res.body.data.map((q: { source: string }) => q.source).sort()).toEqual(['coingecko', 'coinpaprika']);
  });

  test.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '501' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ offset: '-1' }, 'offset'],
    [{ source: 'binance' }, 'source'],
    [{ sort: 'volume' }, 'sort'],
    [{ from: 'yesterday' }, 'from'],
    [{ from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'from'],
    // Valid date-times whose UTC instant PostgreSQL cannot hold (found by schemathesis: 500s).
    [{ from: '0001-01-01T00:00:00+01:00' }, 'from'],
    [{ to: '9999-12-31T23:59:59-01:00' }, 'to'],
    [{ from: '0000-01-01T00:00:00Z' }, 'from'],
    [{ asset_id: 'abc' }, 'asset_id'],
    [{ cursor: 'not-a-cursor' }, 'cursor'],
  ])('When the query is %j, then 400 names the field %s', async (query, field) => {
    const res = await request(app).get('/data').query(query).expect(400);
    expect(res.body.error).toBe('bad_request');
    expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(res.body.details.every((d: { reason: string }) => d.reason.length > 0)).toBe(true);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);
  });

  test('When the route does not exist, then 404 in JSON', async () => {
    const res = await request(app).get('/nope').expect(404);
    expect(res.body).toMatchObject({ error: 'not_found' });
  });
});

describe('GET /data history totals', () => {
  test('When history matches more rows than the count limit, then total stops at the limit, not exact; fewer, exact', async () => {
    const [asset] = await db.sql<{ asset_id: string }[]>`INSERT INTO assets (symbol, name) VALUES ('HIST', 'History Coin') RETURNING asset_id::text`;
    await db.sql`
      INSERT INTO quotes (source, source_asset_id, source_updated_at, asset_id, symbol, name, price_usd, run_id)
      SELECT 'csv', 'hist-' || (g % 100), timestamptz '2025-01-01' + g * interval '1 minute', ${asset!.asset_id}, 'HIST',
             'History Coin', g, 'test'
        FROM generate_series(1, ${HISTORY_COUNT_LIMIT + 50}) g`;
    try {
      const year = { symbol: 'hist', from: '2025-01-01T00:00:00Z', to: '2025-12-31T00:00:00Z' };
      const all = await request(app).get('/data').query(year).expect(200);
      expect(all.body.pagination).toMatchObject({ total: HISTORY_COUNT_LIMIT, total_exact: false });
      expect(all.body.pagination.next_cursor).not.toBeNull();
      const hour = { ...year, to: '2025-01-01T01:00:00Z' };
      const some = await request(app).get('/data').query(hour).expect(200);
      const [n] = await db.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM quotes WHERE symbol = 'HIST' AND source_updated_at <= ${hour.to}::timestamptz`;
      expect(some.body.pagination).toMatchObject({ total: n!.n, total_exact: true });
      expect(n!.n).toBe(60);
    } finally {
      await db.sql`DELETE FROM quotes WHERE symbol = 'HIST'`;
      await db.sql`DELETE FROM assets WHERE asset_id = ${asset!.asset_id}`;
    }
  });
});

describe('GET /data with the read cache on', () => {
  const btc = { symbol: 'BTC', source: 'coingecko' };
  const priceOf = (res: request.Response): number => res.body.data[0].price_usd;

  test('When quotes change, then a cached page serves until the commit is announced and the change right after', async () => {
    const withCache = await appWithReadCache(ctx, 60_000);
    const cached = recordResponses(withCache.app);
    const first = await request(cached.app).get('/data').query(btc).expect(200);
    const before = priceOf(first);
    const [saved] = await db.sql<{ price: string }[]>`SELECT price_usd::text AS price FROM latest_quotes WHERE source = 'coingecko' AND symbol = 'BTC'`;
    try {
      // A write with triggers off sends no notification: the page stays as cached, which shows it is cached.
      await db.sql.begin(async (tx) => {
        await tx`SET LOCAL session_replication_role = replica`;
        await tx`UPDATE latest_quotes SET price_usd = price_usd * 2 WHERE source = 'coingecko' AND symbol = 'BTC'`;
      });
      const stale = await request(cached.app).get('/data').query(btc).expect(200);
      expect(priceOf(stale)).toBe(before);
      expect(stale.body.request_id).not.toBe(first.body.request_id);

      // A statement that changes no row (a batch of known quotes) announces nothing: the page stays cached.
      await db.sql`UPDATE latest_quotes SET price_usd = 0 WHERE false`;
      await db.sql`INSERT INTO quotes SELECT * FROM quotes LIMIT 1 ON CONFLICT DO NOTHING`;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(priceOf(await request(cached.app).get('/data').query(btc).expect(200))).toBe(before);

      // An ordinary write notifies on commit: the next page is fresh, well within the 60 s the entry could live.
      await db.sql`UPDATE latest_quotes SET price_usd = price_usd * 2 WHERE source = 'coingecko' AND symbol = 'BTC'`;
      // The notification arrives asynchronously after the commit.
      const fresh = await eventually('a fresh page', async () => {
        const res = await request(cached.app).get('/data').query(btc);
        return priceOf(res) !== before && res;
      }, { timeoutMs: 5_000, intervalMs: 20 });
      expect(priceOf(fresh)).toBeCloseTo(before * 4);
      expect(cached.check(ctx.openapi)).toEqual([]);
    } finally {
      await db.sql`UPDATE latest_quotes SET price_usd = ${saved?.price ?? null}::numeric WHERE source = 'coingecko' AND symbol = 'BTC'`;
      await withCache.close();
    }
  });
});

test('When all the responses above were served, then each matches openapi.json', () => {
  expect(ctx.responses()).toBeGreaterThan(15);
  expect(ctx.nonConformant()).toEqual([]);
});
