import { rekeySymbols, resolveAssets } from '../../src/db/assets';
import type { Listing } from '../../src/identity/match';
import { SOURCE_NAMES } from '../../src/sources';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { loadQuotes, minutes, quote, T0 } from '../support/identity';

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.drop();
});

const listing = (source: string, id: string, symbol: string, name: string, rank: number | null): Listing => ({
  source, sourceAssetId: id, symbol, name, rank,
});
const resolve = (source: string, listings: Listing[]) => db.sql.begin((tx) => resolveAssets(tx, source, listings, SOURCE_NAMES));

const assetsNamed = () => db.sql<{ asset_id: string; symbol: string; name: string }[]>`
  SELECT asset_id::text, symbol, name FROM assets ORDER BY asset_id`;

describe('resolveAssets', () => {
  test('When two sources list the same coin, then both map to one asset, the second as a scored match', async () => {
    const [gecko] = [...(await resolve('coingecko', [listing('coingecko', 'bitcoin', 'BTC', 'Bitcoin', 1)])).values()];
    const paprika = await resolve('coinpaprika', [listing('coinpaprika', 'btc-bitcoin', 'btc', 'Bitcoin', 1)]);
    expect(paprika.get('btc-bitcoin')).toBe(gecko);
    const [row] = await db.sql<{ method: string; confidence: number; evidence: { total: number } }[]>`
      SELECT method, confidence::float8 AS confidence, evidence FROM asset_mappings WHERE source = 'coinpaprika'`;
    expect(row).toMatchObject({ method: 'matched' });
    // The evidence is kept beside the decision, and the confidence is its logistic.
    expect(row?.confidence).toBeCloseTo(1 / (1 + Math.exp(-(row?.evidence.total ?? NaN))), 3);
  });

  test('When one source lists two coins with one symbol, then they stay two assets', async () => {
    const ids = await resolve('coingecko', [
      listing('coingecko', 'weth', 'WETH', 'WETH', 30),
      listing('coingecko', 'l2-standard-bridged-weth-base', 'WETH', 'L2 Standard Bridged WETH (Base)', 90),
    ]);
    expect(new Set(ids.values()).size).toBe(2);
  });

  test('When an override names the asset, then it wins over matching, for new and already mapped ids', async () => {
    const first = await resolve('coingecko', [listing('coingecko', 'binancecoin', 'BNB', 'BNB', 4)]);
    const bnb = first.get('binancecoin') as string;
    // No price to compare and names that share nothing: CoinPaprika's listing becomes an asset of its own.
    const apart = await resolve('coinpaprika', [listing('coinpaprika', 'bnb-binance-coin', 'BNB', 'Binance Coin', 4)]);
    expect(apart.get('bnb-binance-coin')).not.toBe(bnb);

    await db.sql`INSERT INTO asset_overrides (source, source_asset_id, asset_id, note) VALUES
      ('coinpaprika', 'bnb-binance-coin', ${bnb}, 'same coin'), ('csv', 'bnb', ${bnb}, 'same coin')`;
    const remapped = await resolve('coinpaprika', [listing('coinpaprika', 'bnb-binance-coin', 'BNB', 'Binance Coin', 4)]);
    expect(remapped.get('bnb-binance-coin')).toBe(bnb);
    const fresh = await resolve('csv', [listing('csv', 'bnb', 'BNB', 'Build N Build', null)]);
    expect(fresh.get('bnb')).toBe(bnb);
    const [csv] = await db.sql<{ method: string }[]>`SELECT method FROM asset_mappings WHERE source = 'csv'`;
    expect(csv?.method).toBe('override');
  });

  test('When an override is written by hand in SQL, then the history of the listing follows it and the change is audited', async () => {
    const bnb = (await db.sql.begin((tx) => loadQuotes(tx, 'coingecko', [quote('binancecoin', 'BNB', 'BNB', 4, 612, T0)]))).get('binancecoin');
    for (const m of [60, 70]) await db.sql.begin((tx) => loadQuotes(tx, 'csv', [quote('bnb', 'BNB', 'Binance Coin', 4, 611, minutes(m))]));
    await db.sql`INSERT INTO asset_overrides (source, source_asset_id, asset_id, note) VALUES ('csv', 'bnb', ${bnb ?? ''}, 'by hand')`;
    const rows = await db.sql<{ t: string; asset_id: string }[]>`
      SELECT 'quotes' AS t, asset_id::text FROM quotes WHERE source = 'csv'
      UNION ALL SELECT 'latest', asset_id::text FROM latest_quotes WHERE source = 'csv'
      UNION ALL SELECT 'mapping', asset_id::text FROM asset_mappings WHERE source = 'csv'`;
    expect(rows).toEqual([
      { t: 'quotes', asset_id: bnb },
      { t: 'quotes', asset_id: bnb },
      { t: 'latest', asset_id: bnb },
      { t: 'mapping', asset_id: bnb },
    ]);
    const [audit] = await db.sql<{ actor: string; quotes_moved: number; note: string }[]>`
      SELECT actor, quotes_moved::int, note FROM identity_audit`;
    expect(audit).toEqual({ actor: expect.stringMatching(/^sql:/), quotes_moved: 2, note: 'by hand' });
  });

  test('When a ticker-as-name pair agrees on rank and price at the same time, then it is one asset', async () => {
    const bnb = (await db.sql.begin((tx) => loadQuotes(tx, 'coingecko', [quote('binancecoin', 'BNB', 'BNB', 4, 612.4, T0)]))).get('binancecoin');
    const same = await db.sql.begin((tx) => loadQuotes(tx, 'coinpaprika', [quote('bnb-binance-coin', 'BNB', 'Binance Coin', 4, 611.8, minutes(3))]));
    expect(same.get('bnb-binance-coin')).toBe(bnb);
  });

  test('When the same pair has no price to compare, then it is kept apart and reviewed, with its evidence', async () => {
    const bnb = (await db.sql.begin((tx) => loadQuotes(tx, 'coingecko', [quote('binancecoin', 'BNB', 'BNB', 4, 612.4, T0)]))).get('binancecoin');
    // Observed an hour after CoinGecko's only quote: no price evidence, so a review, not a merge.
    const late = await db.sql.begin((tx) => loadQuotes(tx, 'csv', [quote('bnb', 'BNB', 'Binance Coin', 4, 611.8, minutes(60))]));
    expect(late.get('bnb')).not.toBe(bnb);
    const [review] = await db.sql<{ review_candidate_id: string; review_confidence: number; review_evidence: { price: number } }[]>`
      SELECT review_candidate_id::text, review_confidence::float8 AS review_confidence, review_evidence
        FROM asset_mappings WHERE source = 'csv'`;
    expect(review).toMatchObject({ review_candidate_id: bnb, review_evidence: { price: 0 } });
    expect(review?.review_confidence).toBeGreaterThan(0);
  });

  test('When the candidate has history, then its price is the one observed nearest in time to the incoming quote', async () => {
    // CoinGecko's PEPE was at 1.90 early on and 0.02 since; a CSV row observed early at 1.91 agrees with the early one.
    const pepe = (
      await db.sql.begin(async (tx) => {
        await loadQuotes(tx, 'coingecko', [quote('pepe', 'PEPE', 'Pepe', 40, 1.9, minutes(-120))]);
        return loadQuotes(tx, 'coingecko', [quote('pepe', 'PEPE', 'Pepe', 40, 0.02, T0)]);
      })
    ).get('pepe');
    const early = await db.sql.begin((tx) => loadQuotes(tx, 'csv', [quote('pepe', 'PEPE', 'PEPE COIN', null, 1.91, minutes(-118))]));
    const [mapping] = await db.sql<{ asset_id: string; evidence: { price: number } }[]>`
      SELECT asset_id::text, evidence FROM asset_mappings WHERE source = 'csv'`;
    expect(early.get('pepe')).toBe(pepe);
    expect(mapping?.evidence.price).toBeGreaterThan(0);

    // CoinPaprika at 1.91 now, against 0.02 now: prices a hundred times apart never merge, whatever the names.
    const now = await db.sql.begin((tx) => loadQuotes(tx, 'coinpaprika', [quote('pepe-pepe', 'PEPE', 'Pepe', 40, 1.91, minutes(1))]));
    expect(now.get('pepe-pepe')).not.toBe(pepe);
  });

  test('When one side spells the symbol with a diacritic, then a CSV row joins the asset its API listing has', async () => {
    const oko = (await resolve('coingecko', [listing('coingecko', 'okocoin', 'ÖKO', 'Ökocoin', 900)])).get('okocoin');
    const csv = await resolve('csv', [listing('csv', 'oko', 'OKO', 'Ökocoin', null)]);
    expect(csv.get('oko')).toBe(oko);
  });

  test('When mappings were stored under the older symbol key, then the migration step rekeys them and they nominate again', async () => {
    const oko = (await resolve('coingecko', [listing('coingecko', 'okocoin', 'ÖKO', 'Ökocoin', 900)])).get('okocoin');
    await db.sql`UPDATE asset_mappings SET symbol_key = 'ÖKO' WHERE source = 'coingecko'`; // as symbolKey used to store it
    expect(await db.sql.begin((tx) => rekeySymbols(tx))).toBe(1);
    expect(await db.sql.begin((tx) => rekeySymbols(tx))).toBe(0);
    const csv = await resolve('csv', [listing('csv', 'oko', 'OKO', 'Ökocoin', null)]);
    expect(csv.get('oko')).toBe(oko);
  });

  test('When sources meet a coin in either order, then the asset takes the name of the best-placed source', async () => {
    const gecko = listing('coingecko', 'usd-coin', 'USDC', 'USDC', 6);
    const paprika = listing('coinpaprika', 'usdc-usd-coin', 'USDC', 'USD Coin', 6);
    const csv = listing('csv', 'usdc', 'usdc', 'Usd Coin', null);
    const names: string[] = [];
    for (const order of [[csv, paprika, gecko], [gecko, csv, paprika], [paprika, gecko, csv]]) {
      await db.sql`TRUNCATE assets, asset_mappings CASCADE`;
      for (const l of order) await resolve(l.source, [l]);
      const assets = await assetsNamed();
      expect(assets).toHaveLength(1);
      names.push(`${assets[0]?.symbol} ${assets[0]?.name}`);
    }
    // SOURCE_NAMES puts CoinGecko first: its spelling wins, whichever source arrived first.
    expect(names).toEqual(['USDC USDC', 'USDC USDC', 'USDC USDC']);
  });

  test('When two sources meet the same coin for the first time at once, then one asset with the best-placed name', async () => {
    for (let round = 0; round < 5; round++) {
      await db.sql`TRUNCATE assets, asset_mappings, quotes, latest_quotes CASCADE`;
      await Promise.all([
        db.sql.begin((tx) => loadQuotes(tx, 'coinpaprika', [quote('btc-bitcoin', 'BTC', 'Bitcoin (BTC)', 1, 97_010, minutes(1))])),
        db.sql.begin((tx) => loadQuotes(tx, 'coingecko', [quote('bitcoin', 'btc', 'Bitcoin', 1, 97_000, T0)])),
      ]);
      const assets = await assetsNamed();
      expect(assets.map((a) => `${a.symbol} ${a.name}`)).toEqual(['btc Bitcoin']);
    }
  });
});
