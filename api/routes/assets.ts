import { getAsset, type AssetView } from '../../src/db/asset-queries';
import type { ChangeFeed } from '../../src/db/change-feed';
import { mergedInto } from '../../src/db/identity-queries';
import type { Sql } from '../../src/db/sql';
import { notFound } from '../errors';
import { readCache } from '../read-cache';
import { envelope } from '../middleware/request-context';
import { defineRoute } from '../route';
import { assetIdParam, Envelope, Quote } from '../schemas';
import { z } from '../zod';

const AssetParams = z.object({ asset_id: assetIdParam });

const AssetResponse = Envelope.extend({
  asset_id: z.string(),
  symbol: z.string(),
  name: z.string(),
  quotes: z.array(Quote),
  median_price_usd: z.number().nullable(),
  spread: z
    .object({ min_usd: z.number(), max_usd: z.number(), abs_usd: z.number(), pct_of_median: z.number() })
    .nullable()
    .openapi({ description: 'how far the sources disagree on the price; null with fewer than two sources' }),
}).openapi('Asset');

export function assetRoute(sql: Sql, readCacheMs: number, changes?: ChangeFeed) {
  // As /data's pages: kept until the next committed change to latest_quotes or assets (sql/008), or readCacheMs.
  // An unknown id is kept too, with where it was merged into: a scan over ids costs one lookup each, then none
  // until a change.
  const assets = readCache<{ asset?: AssetView; successor?: string | undefined }>(readCacheMs, {
    ...(changes ? { version: changes.version } : {}),
    maxKeys: 20_000,
  });
  const lookUp = async (id: string) => {
    const asset = await getAsset(sql, id);
    return asset ? { asset } : { successor: await mergedInto(sql, id) };
  };
  return defineRoute({
    method: 'get',
    path: '/assets/:asset_id',
    summary: 'One canonical asset with the latest quote from every source, their median price and spread',
    tags: ['data'],
    params: AssetParams,
    responses: { 200: { description: 'the asset', schema: AssetResponse }, 400: { description: 'bad id' }, 404: { description: 'unknown asset' } },
    async handler({ params, req }) {
      const { asset, successor } = await assets(params.asset_id, () => lookUp(params.asset_id));
      if (!asset) throw notFound(successor ? `asset ${params.asset_id} (merged into asset ${successor})` : `asset ${params.asset_id}`);
      const prices = asset.quotes.map((q) => q.price_usd).sort((a, b) => a - b);
      const median = medianOf(prices);
      const min = prices[0];
      const max = prices.at(-1);
      return {
        status: 200,
        body: {
          ...envelope(req),
          asset_id: asset.asset_id,
          symbol: asset.symbol,
          name: asset.name,
          quotes: asset.quotes,
          median_price_usd: median,
          spread:
            prices.length >= 2 && median && min !== undefined && max !== undefined
              ? { min_usd: min, max_usd: max, abs_usd: max - min, pct_of_median: ((max - min) / median) * 100 }
              : null,
        },
      };
    },
  });
}

function medianOf(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
