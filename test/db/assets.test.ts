import { resolveAssets } from '../../src/db/assets';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.drop();
});

const listing = (source: string, id: string, symbol: string, name: string, rank: number | null) => ({
  source, sourceAssetId: id, symbol, name, rank,
});

describe('resolveAssets', () => {
  test('When two sources list the same coin, then both map to one asset, the second as a scored match', async () => {
    const [gecko] = [...(await db.sql.begin((tx) => resolveAssets(tx, 'coingecko', [listing('coingecko', 'bitcoin', 'BTC', 'Bitcoin', 1)]))).values()];
    const paprika = await db.sql.begin((tx) => resolveAssets(tx, 'coinpaprika', [listing('coinpaprika', 'btc-bitcoin', 'btc', 'Bitcoin', 1)]));
    expect(paprika.get('btc-bitcoin')).toBe(gecko);
    const rows = await db.sql<{ method: string; confidence: string }[]>`
      SELECT method, confidence::text FROM asset_mappings WHERE source = 'coinpaprika'`;
    expect(rows).toEqual([{ method: 'matched', confidence: '1.000' }]);
  });

  test('When one source lists two coins with one symbol, then they stay two assets', async () => {
    const ids = await db.sql.begin((tx) =>
      resolveAssets(tx, 'coingecko', [
        listing('coingecko', 'weth', 'WETH', 'WETH', 30),
        listing('coingecko', 'l2-standard-bridged-weth-base', 'WETH', 'L2 Standard Bridged WETH (Base)', 90),
      ]),
    );
    expect(new Set(ids.values()).size).toBe(2);
  });

  test('When an override names the asset, then it wins over matching, for new and already mapped ids', async () => {
    const first = await db.sql.begin((tx) => resolveAssets(tx, 'coingecko', [listing('coingecko', 'binancecoin', 'BNB', 'BNB', 4)]));
    const bnb = first.get('binancecoin') as string;
    // Names too far apart to match: without an override, CoinPaprika's listing becomes an asset of its own.
    const apart = await db.sql.begin((tx) => resolveAssets(tx, 'coinpaprika', [listing('coinpaprika', 'bnb-binance-coin', 'BNB', 'Binance Coin', 4)]));
    expect(apart.get('bnb-binance-coin')).not.toBe(bnb);

    await db.sql`INSERT INTO asset_overrides (source, source_asset_id, asset_id, note) VALUES
      ('coinpaprika', 'bnb-binance-coin', ${bnb}, 'same coin'), ('csv', 'bnb', ${bnb}, 'same coin')`;
    const remapped = await db.sql.begin((tx) => resolveAssets(tx, 'coinpaprika', [listing('coinpaprika', 'bnb-binance-coin', 'BNB', 'Binance Coin', 4)]));
    expect(remapped.get('bnb-binance-coin')).toBe(bnb);
    const fresh = await db.sql.begin((tx) => resolveAssets(tx, 'csv', [listing('csv', 'bnb', 'BNB', 'Build N Build', null)]));
    expect(fresh.get('bnb')).toBe(bnb);
    const [csv] = await db.sql<{ method: string }[]>`SELECT method FROM asset_mappings WHERE source = 'csv'`;
    expect(csv?.method).toBe('override');
  });
});
