import { listingOf, resolveAssets } from '../../src/db/assets';
import { advanceLatestQuotes, insertQuotes } from '../../src/db/quotes';
import type { Db } from '../../src/db/sql';
import type { NormalizedQuote } from '../../src/schemas/quote';
import { SOURCE_NAMES } from '../../src/sources';

/** Identity tests write quotes of their own making: the listings and prices a case needs, at set times. */

export const T0 = new Date('2026-12-03T12:00:00Z');
export const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

export function quote(id: string, symbol: string, name: string, rank: number | null, priceUsd: number, at: Date): NormalizedQuote {
  return { sourceAssetId: id, symbol, name, priceUsd, marketCapUsd: null, volume24hUsd: null, percentChange24h: null, rank, sourceUpdatedAt: at };
}

/** What loadBatch does with a source's valid quotes: resolve, then history and latest, in the caller's transaction. */
export async function loadQuotes(tx: Db, source: string, quotes: NormalizedQuote[]): Promise<Map<string, string>> {
  const ids = await resolveAssets(tx, source, quotes.map((q) => listingOf(source, q)), SOURCE_NAMES);
  const rows = quotes.map((q) => ({ ...q, assetId: ids.get(q.sourceAssetId) as string }));
  await insertQuotes(tx, { source, runId: `run-${source}`, quotes: rows });
  await advanceLatestQuotes(tx, { source, runId: `run-${source}`, quotes: rows });
  return ids;
}

/**
 * Every row of quotes and latest_quotes as text, without asset_id, and separately which asset each listing's
 * rows point at: a merge or split must leave the first unchanged (nothing lost, nothing duplicated).
 */
export async function historySnapshot(db: Db): Promise<{ rows: string[]; assetOf: Map<string, Set<string>> }> {
  const rows = await db<{ t: string; row: string; listing: string; asset_id: string }[]>`
    SELECT 'quotes' AS t, (q.source, q.source_asset_id, q.source_updated_at, q.symbol, q.name, q.price_usd, q.market_cap_usd,
                           q.volume_24h_usd, q.percent_change_24h, q.rank, q.ingested_at, q.run_id)::text AS row,
           q.source || '/' || q.source_asset_id AS listing, q.asset_id::text
      FROM quotes q
    UNION ALL
    SELECT 'latest', (l.source, l.source_asset_id, l.source_updated_at, l.symbol, l.name, l.price_usd, l.market_cap_usd,
                      l.volume_24h_usd, l.percent_change_24h, l.rank, l.ingested_at, l.run_id)::text,
           l.source || '/' || l.source_asset_id, l.asset_id::text
      FROM latest_quotes l`;
  const assetOf = new Map<string, Set<string>>();
  for (const r of rows) assetOf.set(r.listing, new Set([...(assetOf.get(r.listing) ?? []), r.asset_id]));
  return { rows: rows.map((r) => `${r.t} ${r.row}`).sort(), assetOf };
}
