import type { QuoteView } from './quote-queries';
import type { Db } from './sql';

export interface AssetView {
  asset_id: string;
  symbol: string;
  name: string;
  created_at: Date;
  /** The latest quote from every source that lists the asset. */
  quotes: QuoteView[];
}

export async function getAsset(db: Db, assetId: string): Promise<AssetView | undefined> {
  const [asset] = await db<Omit<AssetView, 'quotes'>[]>`
    SELECT asset_id::text, symbol, name, created_at FROM assets WHERE asset_id = ${assetId}`;
  if (!asset) return undefined;
  const quotes = await db<QuoteView[]>`
    SELECT asset_id::text, symbol, name, source, source_asset_id, price_usd::float8 AS price_usd,
           market_cap_usd::float8 AS market_cap_usd, volume_24h_usd::float8 AS volume_24h_usd,
           percent_change_24h::float8 AS percent_change_24h, rank, source_updated_at AS observed_at, ingested_at
      FROM latest_quotes WHERE asset_id = ${assetId} ORDER BY source, source_asset_id`;
  return { ...asset, quotes };
}
