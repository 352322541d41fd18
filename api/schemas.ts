import { SOURCE_NAMES } from '../src/sources';
import { queryInteger, z } from './zod';

/** Response pieces shared by several routes. */

export const sourceParam = z.enum(SOURCE_NAMES as [string, ...string[]]).openapi({ description: 'a source name' });

/** assets.asset_id, as a path or query parameter. */
export const assetIdParam = z.string().regex(/^\d{1,18}$/, 'must be a numeric asset id');

export const Envelope = z.object({
  request_id: z.string(),
  api_latency_ms: z.number(),
});

/** limit and offset of a list paged by offset, as query parameters. */
export const pageQuery = (limits: { default: number; max: number }) => ({
  limit: queryInteger(1, limits.max).default(limits.default),
  offset: queryInteger(0, 1_000_000).default(0),
});

/** The page a list paged by offset answered, and how many items its filters match. */
export const Pagination = z.object({ limit: z.number().int(), offset: z.number().int(), total: z.number().int() });

export const Quote = z
  .object({
    asset_id: z.string(),
    symbol: z.string(),
    name: z.string(),
    source: z.string(),
    source_asset_id: z.string(),
    price_usd: z.number(),
    market_cap_usd: z.number().nullable(),
    volume_24h_usd: z.number().nullable(),
    percent_change_24h: z.number().nullable(),
    rank: z.number().int().nullable(),
    observed_at: z.date().or(z.string()).openapi({ type: 'string', format: 'date-time' }),
    ingested_at: z.date().or(z.string()).openapi({ type: 'string', format: 'date-time' }),
  })
  .openapi('Quote');
