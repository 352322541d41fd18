import type { NormalizedQuote } from '../schemas/quote';
import type { Db } from './sql';

export interface QuoteRow extends NormalizedQuote {
  assetId: string;
}

const num = (n: number | null): string | null => (n === null ? null : String(n));

/**
 * Inserts a batch of quotes in one statement. An existing (source, source_asset_id, source_updated_at) is left
 * alone: re-runs are no-ops and history accumulates. Returns how many rows were new.
 */
export async function insertQuotes(
  db: Db,
  args: { source: string; runId: string; quotes: readonly QuoteRow[] },
): Promise<number> {
  const q = args.quotes;
  if (q.length === 0) return 0;
  const result = await db`
    INSERT INTO quotes (source, source_asset_id, source_updated_at, asset_id, symbol, name, price_usd,
                        market_cap_usd, volume_24h_usd, percent_change_24h, rank, run_id)
    SELECT ${args.source}, t.*, ${args.runId} FROM ${quoteRows(db, q)}
    ON CONFLICT (source, source_asset_id, source_updated_at) DO NOTHING`;
  return result.count;
}

/**
 * Moves each listing's latest quote forward, in the same transaction as insertQuotes. Older observations
 * (a re-run, a late CSV row) never replace a newer one.
 */
export async function advanceLatestQuotes(
  db: Db,
  args: { source: string; runId: string; quotes: readonly QuoteRow[] },
): Promise<void> {
  const newest = new Map<string, QuoteRow>();
  for (const q of args.quotes) {
    const seen = newest.get(q.sourceAssetId);
    if (!seen || seen.sourceUpdatedAt < q.sourceUpdatedAt) newest.set(q.sourceAssetId, q);
  }
  const q = [...newest.values()];
  if (q.length === 0) return;
  await db`
    INSERT INTO latest_quotes (source, source_asset_id, source_updated_at, asset_id, symbol, name, price_usd,
                               market_cap_usd, volume_24h_usd, percent_change_24h, rank, ingested_at, run_id)
    SELECT ${args.source}, t.*, now(), ${args.runId} FROM ${quoteRows(db, q)}
    ON CONFLICT (source, source_asset_id) DO UPDATE
      SET source_updated_at = excluded.source_updated_at, asset_id = excluded.asset_id, symbol = excluded.symbol,
          name = excluded.name, price_usd = excluded.price_usd, market_cap_usd = excluded.market_cap_usd,
          volume_24h_usd = excluded.volume_24h_usd, percent_change_24h = excluded.percent_change_24h,
          rank = excluded.rank, ingested_at = excluded.ingested_at, run_id = excluded.run_id
    WHERE latest_quotes.source_updated_at < excluded.source_updated_at`;
}

/** The rows as one array parameter per column (not bound by the 65k-parameter limit), in table column order. */
function quoteRows(db: Db, q: readonly QuoteRow[]) {
  return db`unnest(
    ${q.map((x) => x.sourceAssetId)}::text[],
    ${q.map((x) => x.sourceUpdatedAt.toISOString())}::timestamptz[],
    ${q.map((x) => x.assetId)}::bigint[],
    ${q.map((x) => x.symbol)}::text[],
    ${q.map((x) => x.name)}::text[],
    ${q.map((x) => String(x.priceUsd))}::numeric[],
    ${q.map((x) => num(x.marketCapUsd))}::numeric[],
    ${q.map((x) => num(x.volume24hUsd))}::numeric[],
    ${q.map((x) => num(x.percentChange24h))}::numeric[],
    ${q.map((x) => x.rank)}::integer[]
  ) AS t`;
}
