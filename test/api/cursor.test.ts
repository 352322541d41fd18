/**
 * GET /data's cursor against the real app over real PostgreSQL: whatever a client sends as `cursor` is a page
 * of the query it was issued for or a 400 naming `cursor`, never a 500 (example cases, then fast-check).
 */
import fc from 'fast-check';
import type { Express } from 'express';
import request from 'supertest';
import { SORTS } from '../../api/routes/data';
import { createApiContext, type ApiContext } from '../support/api';
import { ingest } from '../support/ingest';

let ctx: ApiContext;
let app: Express;
/** A next_cursor per sort, of the first page of latest quotes at limit 5. */
const cursors: Record<string, string> = {};

const HISTORY = { from: '2020-01-01T00:00:00Z' };

function page(query: Record<string, string | number>): request.Test {
  return request(app).get('/data').query(query);
}

function payloadOf(cursor: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
}

const forge = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64url');

/** 200 with a page, or 400 naming cursor, with no stack trace: what any cursor must get. */
function pageOrCursorError(res: request.Response): boolean {
  if (JSON.stringify(res.body).match(/at .*\.[jt]s:\d+/)) return false;
  if (res.status === 200) return Array.isArray(res.body.data);
  return res.status === 400 && res.body.details?.some((d: { field: string }) => d.field === 'cursor');
}

beforeAll(async () => {
  ctx = await createApiContext({ coins: 150 });
  app = ctx.app;
  await ingest(ctx.db.sql, ctx.sources, 'coingecko');
  await ingest(ctx.db.sql, ctx.sources, 'coinpaprika');
  ctx.simulator.tick();
  await ingest(ctx.db.sql, ctx.sources, 'coingecko'); // history: two observations of each coingecko listing
  for (const sort of SORTS) cursors[sort] = (await page({ sort, limit: 5 }).then((r) => r.body.pagination.next_cursor)) as string;
});
afterAll(async () => {
  await ctx?.close();
});

describe('GET /data paged by cursor', () => {
  test.each([['latest', {}], ['history', HISTORY]])(
    'When next_cursor is followed to the end under every sort (%s), then every quote is served exactly once',
    async (_what, filter) => {
      for (const sort of SORTS) {
        const seen: string[] = [];
        let cursor: string | null = null;
        let total = 0;
        do {
          const res: request.Response = await page({ ...filter, sort, limit: 37, ...(cursor ? { cursor } : {}) });
          expect([sort, res.status]).toEqual([sort, 200]);
          for (const q of res.body.data) seen.push(`${q.source}/${q.source_asset_id}/${q.observed_at}`);
          total = res.body.pagination.total;
          cursor = res.body.pagination.next_cursor;
        } while (cursor && seen.length <= total);
        expect([sort, seen.length, new Set(seen).size]).toEqual([sort, total, total]);
      }
    },
  );

  test('When a cursor comes back with another sort, then 400 names cursor and says which sort it was issued for', async () => {
    for (const sort of SORTS.filter((s) => s !== 'price_desc')) {
      const res = await page({ sort, cursor: cursors.price_desc as string }).expect(400);
      expect(res.body.details).toEqual([{ field: 'cursor', reason: expect.stringContaining('issued for sort=price_desc') }]);
    }
  });

  test.each([
    [{ source: 'coingecko' }],
    [{ symbol: 'BTC' }],
    [{ q: 'coin' }],
    [{ asset_id: '1' }],
    [HISTORY],
  ])('When a cursor comes back with other filters (%j), then 400 names cursor', async (filter) => {
    const res = await page({ ...filter, sort: 'market_cap_desc', cursor: cursors.market_cap_desc as string }).expect(400);
    expect(res.body.details).toEqual([{ field: 'cursor', reason: expect.stringContaining('other filters') }]);
  });

  test('When a cursor comes back with the same query and another limit, then it serves the next page', async () => {
    const first = await page({ sort: 'symbol', limit: 5 }).expect(200);
    const next = await page({ sort: 'symbol', limit: 7, cursor: first.body.pagination.next_cursor }).expect(200);
    const ten = await page({ sort: 'symbol', limit: 12 }).expect(200);
    expect(next.body.data).toEqual(ten.body.data.slice(5));
  });

  const tampered: [string, () => string][] = [
    ['truncated', () => (cursors.price_desc as string).slice(0, -7)],
    ['not base64', () => '!!not base64!!'],
    ['base64 of no JSON', () => Buffer.from('hello').toString('base64url')],
    ['standard base64 with padding', () => Buffer.from(JSON.stringify(payloadOf(cursors.price_desc as string))).toString('base64')],
    ['huge', () => 'A'.repeat(10_000)],
    ['another version', () => forge({ ...payloadOf(cursors.price_desc as string), v: 2 })],
    ['a price that is no number', () => forge({ ...payloadOf(cursors.price_desc as string), after: ['abc', 'coingecko', 'bitcoin', '2026-01-01T00:00:00.000000Z'] })],
    ['a price in exponent notation', () => forge({ ...payloadOf(cursors.price_desc as string), after: ['1e400', 'coingecko', 'bitcoin', '2026-01-01T00:00:00.000000Z'] })],
    ['a number where text goes', () => forge({ ...payloadOf(cursors.price_desc as string), after: ['1', 7, 'bitcoin', '2026-01-01T00:00:00.000000Z'] })],
    ['a date that does not exist', () => forge({ ...payloadOf(cursors.price_desc as string), after: ['1', 'coingecko', 'bitcoin', '2026-02-30T00:00:00Z'] })],
    ['a date PostgreSQL cannot hold', () => forge({ ...payloadOf(cursors.price_desc as string), after: ['1', 'coingecko', 'bitcoin', '0000-01-01T00:00:00Z'] })],
    ['a NUL byte in a listing id', () => forge({ ...payloadOf(cursors.price_desc as string), after: ['1', 'coingecko', 'bit\u0000coin', '2026-01-01T00:00:00Z'] })],
    ['a keyset too short', () => forge({ ...payloadOf(cursors.price_desc as string), after: ['1', 'coingecko'] })],
    ['JSON null', () => forge(null)],
  ];
  test.each(tampered)('When the cursor is %s, then 400 names cursor', async (_what, cursor) => {
    const res = await page({ sort: 'price_desc', cursor: cursor() }).expect(400);
    expect(res.body.details).toEqual([{ field: 'cursor', reason: expect.any(String) }]);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.[jt]s:\d+/);
  });

  test('When a well-formed cursor holds values no page ended on, then it serves the page after them', async () => {
    const after = ['-2', 'coingecko', 'zzz', '9999-12-31T23:59:59.999999Z']; // below any market cap, even an unknown one (-1)
    const res = await page({ sort: 'market_cap_desc', cursor: forge({ ...payloadOf(cursors.market_cap_desc as string), after }) }).expect(200);
    expect(res.body.data).toHaveLength(0);
    const time = await page({ sort: 'observed_at', cursor: forge({ ...payloadOf(cursors.observed_at as string), after: ['0001-01-01T00:00:00Z', 'a', 'b', '0001-01-01T00:00:00Z'] }) });
    expect([time.status, time.body.data]).toEqual([200, []]);
  });
});

describe('GET /data with any cursor a client can send (fast-check)', () => {
  // Each run is one request to the real app and PostgreSQL: few enough runs to keep the file fast.
  const options = { numRuns: 120 };

  test('When the cursor is any text, or any bytes percent-encoded, then it is a page or a 400 naming cursor', async () => {
    const asQuery = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }).map(encodeURIComponent),
      fc.uint8Array({ maxLength: 120 }).map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
      fc.base64String({ maxLength: 400 }).map(encodeURIComponent),
    );
    await fc.assert(
      fc.asyncProperty(asQuery, fc.constantFrom(...SORTS), async (cursor, sort) => {
        const res = await request(app).get(`/data?sort=${sort}&cursor=${cursor}`);
        expect([cursor, res.status, pageOrCursorError(res)]).toEqual([cursor, res.status, true]);
      }),
      options,
    );
  });

  test('When an issued cursor is altered (a character changed, cut, or added to), then it is a page or a 400 naming cursor', async () => {
    const sorts = fc.constantFrom(...SORTS);
    const alter = fc.record({
      at: fc.nat(),
      char: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/'),
      how: fc.constantFrom('replace', 'cut', 'insert'),
    });
    await fc.assert(
      fc.asyncProperty(sorts, fc.array(alter, { minLength: 1, maxLength: 4 }), async (sort, alterations) => {
        let cursor = cursors[sort] as string;
        for (const { at, char, how } of alterations) {
          const i = at % (cursor.length + 1);
          cursor = how === 'cut' ? cursor.slice(0, i) : cursor.slice(0, i) + char + cursor.slice(how === 'replace' ? i + 1 : i);
        }
        const res = await page({ sort, cursor });
        expect([cursor, pageOrCursorError(res)]).toEqual([cursor, true]);
      }),
      options,
    );
  });

  test("When a cursor of the right query holds any values in its keyset, then it is a page or a 400 naming cursor", async () => {
    const value = fc.oneof(
      fc.jsonValue(),
      fc.stringMatching(/^-?\d{1,30}(\.\d{1,30})?$/),
      fc.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/),
      fc.string({ unit: 'binary', maxLength: 60 }),
    );
    // Mostly four values, some of them of the right kind, so that many reach PostgreSQL.
    const plausible = fc.tuple(value, fc.oneof(fc.constantFrom('coingecko', 'csv'), value), fc.oneof(fc.constant('bitcoin'), value), value);
    const keyset = fc.oneof({ arbitrary: plausible, weight: 4 }, { arbitrary: fc.array(value, { maxLength: 6 }), weight: 1 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SORTS), keyset, async (sort, after) => {
        const cursor = forge({ ...payloadOf(cursors[sort] as string), after });
        const res = await page({ sort, cursor });
        expect([after, pageOrCursorError(res)]).toEqual([after, true]);
      }),
      options,
    );
  });
});
