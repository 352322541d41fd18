import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

/**
 * One market observation in the shape shared by every source. Sources map their payloads into it; the loader
 * adds asset_id, run_id and ingested_at. Decimal fields stay JS numbers here and become NUMERIC in PostgreSQL.
 */
export const NormalizedQuote = z.object({
  sourceAssetId: z.string().min(1).max(200),
  symbol: z.string().trim().min(1).max(50),
  name: z.string().trim().min(1).max(300),
  priceUsd: finite.nonnegative(),
  marketCapUsd: finite.nonnegative().nullable(),
  volume24hUsd: finite.nonnegative().nullable(),
  percentChange24h: finite.nullable(),
  rank: z.number().int().positive().nullable(),
  sourceUpdatedAt: z.date(),
});
export type NormalizedQuote = z.infer<typeof NormalizedQuote>;

export type NormalizeOutcome = { ok: true; quote: NormalizedQuote } | { ok: false; reason: string };

/** Validates what a source mapped, so every source gets the same guarantees and the same error text. */
export function toOutcome(candidate: unknown): NormalizeOutcome {
  const parsed = NormalizedQuote.safeParse(candidate);
  return parsed.success ? { ok: true, quote: parsed.data } : { ok: false, reason: z.prettifyError(parsed.error) };
}
