import request from 'supertest';
import { lockIdentity } from '../../src/db/identity-lock';
import { mergeAssets } from '../../src/db/identity-operations';
import { SOURCE_NAMES } from '../../src/sources';
import { createApiContext, type ApiContext } from '../support/api';
import { historySnapshot, loadQuotes, minutes, quote, T0 } from '../support/identity';
import { Processes } from '../support/processes';

const KEY = 'identity-test-key-0123456789';
let ctx: ApiContext;
const processes = new Processes();

beforeAll(async () => {
  ctx = await createApiContext({ apiKey: KEY });
});
afterAll(async () => {
  await processes.stopAll();
  await ctx?.close();
});
beforeEach(async () => {
  await ctx.db.sql`TRUNCATE assets, asset_mappings, asset_overrides, quotes, latest_quotes, identity_audit CASCADE`;
});

const load = (source: string, quotes: Parameters<typeof loadQuotes>[2]) => ctx.db.sql.begin((tx) => loadQuotes(tx, source, quotes));
const post = (path: string, body: object = {}) => request(ctx.app).post(path).set('X-API-Key', KEY).send(body);

/**
 * CoinGecko's BNB with three quotes of history, and CSV's "Binance Coin" observed an hour after the last: same
 * symbol and rank, no price to compare, names that share nothing. Kept apart, listed for review.
 */
async function bnbPair() {
  for (const m of [-20, -10, 0]) await load('coingecko', [quote('binancecoin', 'BNB', 'BNB', 4, 612 + m, minutes(m))]);
  for (const m of [60, 70]) await load('csv', [quote('bnb', 'BNB', 'Binance Coin', 4, 611, minutes(m))]);
  const [gecko, csv] = await Promise.all(
    ['coingecko', 'csv'].map(async (source) => {
      const [row] = await ctx.db.sql<{ asset_id: string }[]>`SELECT asset_id::text FROM asset_mappings WHERE source = ${source}`;
      return row?.asset_id as string;
    }),
  );
  return { gecko: gecko as string, csv: csv as string };
}

describe('GET /identity/review', () => {
  test('When a listing is kept apart but close, then it is listed with both sides, its confidence and evidence', async () => {
    const { gecko, csv } = await bnbPair();
    const res = await request(ctx.app).get('/identity/review').expect(200);
    expect(res.body.pagination.total).toBe(1);
    const [review] = res.body.data;
    expect(review).toMatchObject({
      listing: { source: 'csv', source_asset_id: 'bnb', symbol: 'BNB', name: 'Binance Coin', price_usd: 611 },
      asset_id: csv,
      candidate: { asset_id: gecko, name: 'BNB', listings: [{ source: 'coingecko', source_asset_id: 'binancecoin', price_usd: 612 }] },
      evidence: { price: 0 },
    });
    expect(review.confidence).toBeGreaterThan(0);
    expect(review.reason).toContain('not sure');
    const filtered = await request(ctx.app).get('/identity/review').query({ source: 'coinpaprika' }).expect(200);
    expect(filtered.body.data).toEqual([]);
  });
});

describe('accepting and rejecting reviews', () => {
  test('When a review is accepted, then the history moves onto the candidate in one go, row for row, and it is audited', async () => {
    const { gecko, csv } = await bnbPair();
    const before = await historySnapshot(ctx.db.sql);
    await request(ctx.app).post('/identity/review/csv/bnb/accept').send({}).expect(401);

    const res = await post('/identity/review/csv/bnb/accept', { actor: 'alice', note: 'BNB is Binance Coin' }).expect(200);
    expect(res.body).toMatchObject({ operation: 'accept', already: false, from_asset_id: csv, to_asset_id: gecko, quotes_moved: 2, latest_moved: 1 });
    const after = await historySnapshot(ctx.db.sql);
    expect(after.rows).toEqual(before.rows); // nothing lost, nothing duplicated, nothing else changed
    expect([...(after.assetOf.get('csv/bnb') ?? [])]).toEqual([gecko]);
    expect([...(after.assetOf.get('coingecko/binancecoin') ?? [])]).toEqual([gecko]);

    // /assets and /data show it at once; the old id says where it went.
    const asset = await request(ctx.app).get(`/assets/${gecko}`).expect(200);
    expect(asset.body.quotes.map((q: { source: string }) => q.source).sort()).toEqual(['coingecko', 'csv']);
    expect(asset.body.spread).not.toBeNull();
    const gone = await request(ctx.app).get(`/assets/${csv}`).expect(404);
    expect(gone.body.message).toContain(`merged into asset ${gecko}`);
    const data = await request(ctx.app).get('/data').query({ asset_id: gecko }).expect(200);
    expect(data.body.data).toHaveLength(2);

    const audit = await request(ctx.app).get('/identity/audit').expect(200);
    expect(audit.body.data).toEqual([
      expect.objectContaining({ actor: 'alice', operation: 'accept', from_asset_id: csv, to_asset_id: gecko, quotes_moved: 2, note: 'BNB is Binance Coin' }),
    ]);
    expect((await request(ctx.app).get('/identity/review').expect(200)).body.data).toEqual([]);

    // Asking again changes nothing; rejecting what was accepted is refused.
    const again = await post('/identity/review/csv/bnb/accept').expect(200);
    expect(again.body).toMatchObject({ already: true, quotes_moved: 0, audit_id: null });
    expect((await post('/identity/review/csv/bnb/reject').expect(409)).body.message).toContain('accepted already');
    expect((await request(ctx.app).get('/identity/audit').expect(200)).body.pagination.total).toBe(1);

    // Later loads of the listing stay on the asset it was merged into.
    await load('csv', [quote('bnb', 'BNB', 'Binance Coin', 4, 610, minutes(80))]);
    expect([...((await historySnapshot(ctx.db.sql)).assetOf.get('csv/bnb') ?? [])]).toEqual([gecko]);
  });

  test('When a review is rejected, then the listing stays apart, is not listed again, and cannot be accepted after', async () => {
    const { csv } = await bnbPair();
    const before = await historySnapshot(ctx.db.sql);
    const res = await post('/identity/review/csv/bnb/reject', { note: 'Build N Build, not BNB' }).expect(200);
    expect(res.body).toMatchObject({ operation: 'reject', already: false, from_asset_id: csv, quotes_moved: 0 });
    expect(await historySnapshot(ctx.db.sql)).toEqual(before);
    expect((await request(ctx.app).get('/identity/review').expect(200)).body.data).toEqual([]);
    expect((await post('/identity/review/csv/bnb/reject').expect(200)).body.already).toBe(true);
    expect((await post('/identity/review/csv/bnb/accept').expect(409)).body.message).toContain('rejected already');
  });

  test('When the listing or its review does not exist, then 404; a bad source is a 400 naming it', async () => {
    await load('coingecko', [quote('bitcoin', 'BTC', 'Bitcoin', 1, 97_000, T0)]);
    expect((await post('/identity/review/coingecko/nope/accept').expect(404)).body.message).toContain('coingecko/nope');
    expect((await post('/identity/review/coingecko/bitcoin/accept').expect(404)).body.message).toContain('review of coingecko/bitcoin');
    const bad = await post('/identity/review/kraken/bitcoin/accept').expect(400);
    expect(bad.body.details.map((d: { field: string }) => d.field)).toContain('source');
  });
});

describe('POST /identity/merge, /split and /override', () => {
  test('When two assets are merged, then every listing and its history moves; a merge that would give a source two ids is refused', async () => {
    const { gecko, csv } = await bnbPair();
    await load('coinpaprika', [quote('bnb-build-n-build', 'BNB', 'Build N Build', 900, 0.0004, T0)]); // an asset of its own
    const [paprika] = await ctx.db.sql<{ asset_id: string }[]>`SELECT asset_id::text FROM asset_mappings WHERE source = 'coinpaprika'`;
    const before = await historySnapshot(ctx.db.sql);

    const merged = await post('/identity/merge', { from_asset_id: csv, into_asset_id: paprika?.asset_id }).expect(200);
    expect(merged.body).toMatchObject({ operation: 'merge', listings: [{ source: 'csv', source_asset_id: 'bnb' }], quotes_moved: 2 });
    expect((await historySnapshot(ctx.db.sql)).rows).toEqual(before.rows);
    expect((await post('/identity/merge', { from_asset_id: csv, into_asset_id: paprika?.asset_id }).expect(200)).body.already).toBe(true);

    // The merged asset now holds coinpaprika and csv; merging CoinGecko's BNB into it is fine, and back is refused.
    const refused = await post('/identity/merge', { from_asset_id: paprika?.asset_id, into_asset_id: `00${paprika?.asset_id}` }).expect(409);
    expect(refused.body.message).toContain('into itself'); // 007 is 7
    await load('coinpaprika', [quote('bnb-binance-coin', 'BNB', 'Binance Coin', 4, 612, minutes(1))]);
    const [second] = await ctx.db.sql<{ asset_id: string }[]>`
      SELECT asset_id::text FROM asset_mappings WHERE source = 'coinpaprika' AND source_asset_id = 'bnb-binance-coin'`;
    expect(second?.asset_id).toBe(gecko); // matched on rank and price
    const twoIds = await post('/identity/merge', { from_asset_id: gecko, into_asset_id: paprika?.asset_id }).expect(409);
    expect(twoIds.body.message).toMatch(/one source never maps two ids/);
    expect((await post('/identity/merge', { from_asset_id: '999999', into_asset_id: gecko }).expect(404)).body.message).toContain('asset 999999');
  });

  test('When a listing is split off, then it moves with its history to an asset of its own that later loads keep', async () => {
    await load('coingecko', [quote('weth', 'WETH', 'WETH', 30, 3650, T0)]);
    await load('coinpaprika', [quote('weth-weth', 'WETH', 'WETH', 30, 3651, minutes(1))]);
    const [shared] = await ctx.db.sql<{ asset_id: string }[]>`SELECT DISTINCT asset_id::text FROM asset_mappings`;
    const before = await historySnapshot(ctx.db.sql);

    const res = await post('/identity/split', { source: 'coinpaprika', source_asset_id: 'weth-weth', actor: 'bob' }).expect(200);
    expect(res.body).toMatchObject({ operation: 'split', from_asset_id: shared?.asset_id, quotes_moved: 1, latest_moved: 1 });
    const split = res.body.to_asset_id as string;
    expect(split).not.toBe(shared?.asset_id);
    const after = await historySnapshot(ctx.db.sql);
    expect(after.rows).toEqual(before.rows);
    expect([...(after.assetOf.get('coinpaprika/weth-weth') ?? [])]).toEqual([split]);
    expect((await request(ctx.app).get(`/assets/${split}`).expect(200)).body.quotes).toHaveLength(1);

    // The next load keeps it apart (an override), and it is not offered for review against its old asset.
    await load('coinpaprika', [quote('weth-weth', 'WETH', 'WETH', 30, 3652, minutes(5))]);
    expect([...((await historySnapshot(ctx.db.sql)).assetOf.get('coinpaprika/weth-weth') ?? [])]).toEqual([split]);
    expect((await request(ctx.app).get('/identity/review').expect(200)).body.data).toEqual([]);
    expect((await post('/identity/split', { source: 'coinpaprika', source_asset_id: 'weth-weth' }).expect(200)).body.already).toBe(true);
    expect((await post('/identity/split', { source: 'coingecko', source_asset_id: 'weth' }).expect(409)).body.message).toContain('only listing');
  });

  test('When a listing is pointed at another asset, then its history follows, its empty asset goes, and loads keep it there', async () => {
    const { gecko, csv } = await bnbPair();
    const before = await historySnapshot(ctx.db.sql);
    const res = await post('/identity/override', { source: 'csv', source_asset_id: 'bnb', asset_id: gecko }).expect(200);
    expect(res.body).toMatchObject({ operation: 'override', from_asset_id: csv, to_asset_id: gecko, quotes_moved: 2 });
    expect((await historySnapshot(ctx.db.sql)).rows).toEqual(before.rows);
    expect((await request(ctx.app).get(`/assets/${csv}`).expect(404)).body.message).toContain(`merged into asset ${gecko}`);
    expect((await post('/identity/override', { source: 'csv', source_asset_id: 'bnb', asset_id: gecko }).expect(200)).body.already).toBe(true);
    expect((await post('/identity/override', { source: 'csv', source_asset_id: 'bnb', asset_id: '999999' }).expect(404)).body.message).toContain('asset 999999');
    // The candidate's own source may not get a second id on it.
    await load('coingecko', [quote('bnb-2', 'BNB2', 'Other', 500, 1, T0)]);
    expect((await post('/identity/override', { source: 'coingecko', source_asset_id: 'bnb-2', asset_id: gecko }).expect(409)).body.message).toMatch(/two ids/);
  });

  test('When a merge is asked while a load holds its listings, then it waits for the load and moves what it wrote', async () => {
    const { gecko, csv } = await bnbPair();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    // A load in flight: it holds the identity lock shared from resolving until it commits.
    const loading = ctx.db.sql.begin(async (tx) => {
      await lockIdentity(tx, 'shared');
      await held;
      await loadQuotes(tx, 'csv', [quote('bnb', 'BNB', 'Binance Coin', 4, 609, minutes(90))]);
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    let merged = false;
    const merging = mergeAssets(ctx.db.sql, { from: csv, into: gecko, actor: 'test' }, SOURCE_NAMES).then((o) => ((merged = true), o));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(merged).toBe(false);
    release();
    await loading;
    const outcome = await merging;
    expect(outcome.quotes_moved).toBe(3); // the two before the load and the one it wrote
    expect([...((await historySnapshot(ctx.db.sql)).assetOf.get('csv/bnb') ?? [])]).toEqual([gecko]);
  });

  test('When the API key is missing, then every identity operation is a 401 and changes nothing', async () => {
    const { csv, gecko } = await bnbPair();
    const before = await historySnapshot(ctx.db.sql);
    for (const [path, body] of [
      ['/identity/merge', { from_asset_id: csv, into_asset_id: gecko }],
      ['/identity/split', { source: 'csv', source_asset_id: 'bnb' }],
      ['/identity/override', { source: 'csv', source_asset_id: 'bnb', asset_id: gecko }],
      ['/identity/review/csv/bnb/reject', {}],
    ] as const) {
      await request(ctx.app).post(path).send(body).expect(401);
    }
    expect(await historySnapshot(ctx.db.sql)).toEqual(before);
  });
});

describe('npm run etl -- identity', () => {
  const etl = (...args: string[]) => processes.cliOutput(['identity', ...args], { ...process.env, DATABASE_URL: ctx.db.url, LOG_LEVEL: 'silent' });

  test('When reviews are listed and settled from the CLI, then the table, the one-line outcomes and the exit codes say what happened', async () => {
    const { gecko, csv } = await bnbPair();
    const listed = await etl('review');
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const [header, row] = listed.stdout.trimEnd().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['LISTING', 'NAMED', 'ASSET', 'CANDIDATE', 'CONFIDENCE', 'WHY']);
    expect(row?.split(/\s{2,}/).slice(0, 4)).toEqual(['csv/bnb', 'BNB "Binance Coin"', csv, `${gecko} BNB "BNB"`]);

    const accepted = await etl('accept', 'csv', 'bnb', '--note', 'same coin');
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toBe(`accept: asset ${csv} → ${gecko} (csv/bnb): 2 quotes and 1 latest quotes moved (audit ${(await auditIds())[0]})\n`);
    const [audit] = await ctx.db.sql<{ actor: string; note: string }[]>`SELECT actor, note FROM identity_audit`;
    expect(audit).toEqual({ actor: expect.stringMatching(/^cli:/), note: 'same coin' });
    expect(await etl('review')).toMatchObject({ code: 0, stdout: 'no open reviews\n' });

    expect(await etl('reject', 'csv', 'bnb')).toMatchObject({ code: 3, stderr: expect.stringContaining('accepted already') });
    expect(await etl('merge', '999999', gecko)).toMatchObject({ code: 2, stderr: 'asset 999999 not found\n' });
    expect(await etl('split', 'kraken', 'x')).toMatchObject({ code: 1, stderr: expect.stringContaining('SOURCE must be one of') });
    expect(await etl('override', 'csv', 'bnb')).toMatchObject({ code: 1, stderr: expect.stringContaining('takes SOURCE ID ASSET') });
  });
});

const auditIds = async () => (await ctx.db.sql<{ id: string }[]>`SELECT id::text FROM identity_audit ORDER BY id`).map((r) => r.id);
