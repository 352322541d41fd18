import type { Evidence } from '../identity/match';
import type { Db } from './sql';

/** One side of a review: a listing as its source names it, with its latest quote. */
export interface ListingView {
  source: string;
  source_asset_id: string;
  symbol: string;
  name: string;
  rank: number | null;
  price_usd: number | null;
  market_cap_usd: number | null;
  observed_at: Date | null;
}

export interface ReviewView {
  listing: ListingView;
  asset_id: string;
  candidate: { asset_id: string; symbol: string; name: string; listings: ListingView[] };
  confidence: number | null;
  reason: string | null;
  evidence: Evidence | null;
  created_at: Date;
}

/**
 * Open reviews, most likely first: listings kept apart from an asset they might be, not settled yet, and not
 * on that asset since (a merge or an override answers them).
 */
export async function listOpenReviews(
  db: Db,
  q: { source?: string | undefined; limit: number; offset: number },
): Promise<{ rows: ReviewView[]; total: number }> {
  const source = q.source ?? null;
  const open = db`
    m.review_candidate_id IS NOT NULL AND m.review_outcome IS NULL AND m.asset_id <> m.review_candidate_id
    AND (${source}::text IS NULL OR m.source = ${source})`;
  const [rows, [count]] = await Promise.all([
    db<(ListingView & Omit<ReviewView, 'listing' | 'candidate'> & { candidate_id: string; candidate_symbol: string; candidate_name: string })[]>`
      SELECT m.source, m.source_asset_id, m.symbol, m.name, m.rank, m.asset_id::text,
             lq.price_usd::float8 AS price_usd, lq.market_cap_usd::float8 AS market_cap_usd, lq.source_updated_at AS observed_at,
             m.review_candidate_id::text AS candidate_id, c.symbol AS candidate_symbol, c.name AS candidate_name,
             m.review_confidence::float8 AS confidence, m.review_reason AS reason, m.review_evidence AS evidence, m.created_at
        FROM asset_mappings m
        JOIN assets c ON c.asset_id = m.review_candidate_id
        LEFT JOIN latest_quotes lq ON lq.source = m.source AND lq.source_asset_id = m.source_asset_id
       WHERE ${open}
       ORDER BY m.review_confidence DESC NULLS LAST, m.source, m.source_asset_id
       LIMIT ${q.limit} OFFSET ${q.offset}`,
    db<{ n: number }[]>`SELECT count(*)::int AS n FROM asset_mappings m WHERE ${open}`,
  ]);
  const listings = await listingsOfAssets(db, [...new Set(rows.map((r) => r.candidate_id))]);
  return {
    total: count?.n ?? 0,
    rows: rows.map((r) => ({
      listing: listingView(r),
      asset_id: r.asset_id,
      candidate: { asset_id: r.candidate_id, symbol: r.candidate_symbol, name: r.candidate_name, listings: listings.get(r.candidate_id) ?? [] },
      confidence: r.confidence,
      reason: r.reason,
      evidence: r.evidence,
      created_at: r.created_at,
    })),
  };
}

export interface AuditView {
  id: string;
  at: Date;
  actor: string;
  operation: string;
  source: string | null;
  source_asset_id: string | null;
  from_asset_id: string | null;
  to_asset_id: string | null;
  quotes_moved: number;
  latest_moved: number;
  listings: { source: string; source_asset_id: string }[];
  note: string | null;
}

/** The identity operations carried out, newest first. */
export async function listIdentityAudit(db: Db, q: { limit: number; offset: number }): Promise<{ rows: AuditView[]; total: number }> {
  const [rows, [count]] = await Promise.all([
    db<AuditView[]>`
      SELECT id::text, at, actor, operation, source, source_asset_id, from_asset_id::text, to_asset_id::text,
             quotes_moved::float8 AS quotes_moved, latest_moved, listings, note
        FROM identity_audit ORDER BY id DESC LIMIT ${q.limit} OFFSET ${q.offset}`,
    db<{ n: number }[]>`SELECT count(*)::int AS n FROM identity_audit`,
  ]);
  return { rows, total: count?.n ?? 0 };
}

/**
 * Where an asset that is gone went: the asset its newest merge out of it went into, followed through later
 * merges to one that exists (at most 20 steps), for a 404 that says so.
 */
export async function mergedInto(db: Db, assetId: string): Promise<string | undefined> {
  let at = assetId;
  for (let step = 0; step < 20; step++) {
    const [row] = await db<{ to: string; exists: boolean }[]>`
      SELECT a.to_asset_id::text AS to, EXISTS (SELECT 1 FROM assets WHERE asset_id = a.to_asset_id) AS exists
        FROM identity_audit a
       WHERE a.from_asset_id = ${at} AND a.operation IN ('merge', 'accept', 'override') ORDER BY a.id DESC LIMIT 1`;
    if (!row) return undefined;
    if (row.exists) return row.to;
    at = row.to;
  }
  return undefined;
}

async function listingsOfAssets(db: Db, assetIds: readonly string[]): Promise<Map<string, ListingView[]>> {
  if (assetIds.length === 0) return new Map();
  const rows = await db<(ListingView & { asset_id: string })[]>`
    SELECT m.asset_id::text, m.source, m.source_asset_id, m.symbol, m.name, m.rank,
           lq.price_usd::float8 AS price_usd, lq.market_cap_usd::float8 AS market_cap_usd, lq.source_updated_at AS observed_at
      FROM asset_mappings m
      LEFT JOIN latest_quotes lq ON lq.source = m.source AND lq.source_asset_id = m.source_asset_id
     WHERE m.asset_id = ANY(${assetIds as string[]}::bigint[])
     ORDER BY m.source, m.source_asset_id`;
  const out = new Map<string, ListingView[]>();
  for (const r of rows) out.set(r.asset_id, [...(out.get(r.asset_id) ?? []), listingView(r)]);
  return out;
}

function listingView(r: ListingView): ListingView {
  return {
    source: r.source,
    source_asset_id: r.source_asset_id,
    symbol: r.symbol,
    name: r.name,
    rank: r.rank,
    price_usd: r.price_usd,
    market_cap_usd: r.market_cap_usd,
    observed_at: r.observed_at,
  };
}
