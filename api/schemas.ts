import { SOURCE_NAMES } from '../src/sources';
import { z } from './zod';

/** Response pieces shared by several routes. */

export const sourceParam = z.enum(SOURCE_NAMES as [string, ...string[]]).openapi({ description: 'a source name' });

export const Envelope = z.object({
  request_id: z.string(),
  api_latency_ms: z.number(),
});

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
