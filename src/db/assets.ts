import type { Observation } from '../identity/evidence';
import { symbolKey } from '../identity/keys';
import { decide, type Candidate, type Evidence, type Listing, type Review } from '../identity/match';
import type { NormalizedQuote } from '../schemas/quote';
import { lockIdentity } from './identity-lock';
import type { Db } from './sql';

/** A normalized quote as a listing to resolve, with its price as evidence. */
export function listingOf(source: string, q: NormalizedQuote): Listing {
  return {
    source,
    sourceAssetId: q.sourceAssetId,
    symbol: q.symbol,
    name: q.name,
    rank: q.rank,
    observation: { priceUsd: q.priceUsd, marketCapUsd: q.marketCapUsd, observedAt: q.sourceUpdatedAt },
  };
}

/**
 * Maps each listing of one source to a canonical asset id, creating assets and mappings for ids seen for the
 * first time. Overrides win (a known id's override has moved its mapping already: sql/011); known ids cost one
 * indexed lookup; only new ids take the resolution lock, so two sources meeting Bitcoin for the first time at
 * once still agree on one asset.
 *
 * `precedence` lists the sources best first: an asset takes its symbol and name from the best source that
 * lists it, whichever source met it first (the names are the same whatever order runs arrive in).
 */
export async function resolveAssets(
  db: Db,
  source: string,
  listings: readonly Listing[],
  precedence: readonly string[],
): Promise<Map<string, string>> {
  await lockIdentity(db, 'shared'); // held to the commit: no merge or split moves these listings meanwhile
  const ids = listings.map((l) => l.sourceAssetId);
  const resolved = await knownAssets(db, source, ids);
  let pending = listings.filter((l) => !resolved.has(l.sourceAssetId));
  if (pending.length === 0) return resolved;

  await db`SELECT pg_advisory_xact_lock(hashtext('kasparro-etl:asset-resolution'))`;
  for (const [id, assetId] of await knownAssets(db, source, pending.map((l) => l.sourceAssetId))) resolved.set(id, assetId);
  pending = pending.filter((l) => !resolved.has(l.sourceAssetId));
  if (pending.length === 0) return resolved;

  const overrides = await overridesFor(db, source, pending.map((l) => l.sourceAssetId));
  // Candidates grouped by symbol key: each listing weighs only its own symbol's, never the whole set.
  const bySymbol = await candidatesFor(db, pending.map((l) => symbolKey(l.symbol)));
  const observed = await nearestObservations(db, pending, bySymbol);
  const mappings: MappingRow[] = [];
  const fresh: Listing[] = [];
  for (const listing of pending) {
    const override = overrides.get(listing.sourceAssetId);
    const candidates = bySymbol.get(symbolKey(listing.symbol)) ?? [];
    const decision = override ? undefined : decide(listing, withObservations(listing, candidates, observed));
    if (override || decision?.kind === 'matched') {
      const assetId = override ?? (decision as { assetId: string }).assetId;
      mappings.push({
        listing,
        assetId,
        method: override ? 'override' : 'matched',
        confidence: decision?.confidence ?? 1,
        evidence: decision?.kind === 'matched' ? decision.evidence : undefined,
      });
      // The asset now has this source's listing: no other id of this source may match it in this batch.
      candidates.find((c) => c.assetId === assetId)?.listings.push(listing);
    } else {
      fresh.push(listing);
      mappings.push({ listing, assetId: '', method: 'new', confidence: 1, review: decision?.kind === 'new' ? decision.review : undefined });
    }
  }

  const newIds = await createAssets(db, fresh);
  let next = 0;
  for (const m of mappings) if (m.method === 'new') m.assetId = newIds[next++] as string;
  await insertMappings(db, source, mappings);
  await nameByPrecedence(db, mappings.filter((m) => m.method !== 'new').map((m) => m.assetId), precedence);
  for (const m of mappings) resolved.set(m.listing.sourceAssetId, m.assetId);
  return resolved;
}

interface MappingRow {
  listing: Listing;
  assetId: string;
  method: 'override' | 'matched' | 'new';
  confidence: number;
  evidence?: Evidence | undefined;
  review?: Review | undefined;
}

/**
 * Sets each asset's symbol and name to those of its best-placed source. Only assets that just gained a
 * listing of another source can change: a new asset already carries its only listing's.
 */
export async function nameByPrecedence(db: Db, assetIds: readonly string[], precedence: readonly string[]): Promise<void> {
  if (assetIds.length === 0) return;
  await db`
    UPDATE assets a SET symbol = best.symbol, name = best.name
      FROM (SELECT DISTINCT ON (asset_id) asset_id, symbol, name FROM asset_mappings
             WHERE asset_id = ANY(${[...new Set(assetIds)]}::bigint[])
             ORDER BY asset_id, array_position(${precedence as string[]}::text[], source) NULLS LAST, source, source_asset_id) best
     WHERE a.asset_id = best.asset_id AND (a.symbol, a.name) IS DISTINCT FROM (best.symbol, best.name)`;
}

/** Key of one (incoming listing, candidate listing) pair of the nearest-observation lookup. */
const pairKey = (incoming: Listing, known: Pick<Listing, 'source' | 'sourceAssetId'>) =>
  `${incoming.sourceAssetId}\u0000${known.source}\u0000${known.sourceAssetId}`;

/**
 * For each incoming listing with a price and each stored listing among its candidates: that listing's quote
 * nearest in time to the incoming one (the newest before it or the oldest after it, two probes of the quotes
 * primary key each), so prices are compared as they stood at the same moment.
 */
async function nearestObservations(
  db: Db,
  pending: readonly Listing[],
  bySymbol: ReadonlyMap<string, Candidate[]>,
): Promise<Map<string, Observation>> {
  const pairs: { key: string; source: string; id: string; at: Date }[] = [];
  for (const listing of pending) {
    const at = listing.observation?.observedAt;
    if (!at) continue;
    for (const candidate of bySymbol.get(symbolKey(listing.symbol)) ?? []) {
      if (candidate.listings.some((l) => l.source === listing.source)) continue; // decide() skips it: nothing to compare
      for (const known of candidate.listings) pairs.push({ key: pairKey(listing, known), source: known.source, id: known.sourceAssetId, at });
    }
  }
  if (pairs.length === 0) return new Map();
  const rows = await db<{ i: string; price: number; cap: number | null; at: Date; target: Date }[]>`
    SELECT p.i::text, n.price_usd::float8 AS price, n.market_cap_usd::float8 AS cap, n.source_updated_at AS at, p.at AS target
      FROM unnest(${pairs.map((p) => p.source)}::text[], ${pairs.map((p) => p.id)}::text[],
                  ${pairs.map((p) => p.at.toISOString())}::timestamptz[]) WITH ORDINALITY AS p(source, id, at, i)
     CROSS JOIN LATERAL (
       (SELECT price_usd, market_cap_usd, source_updated_at FROM quotes q
         WHERE q.source = p.source AND q.source_asset_id = p.id AND q.source_updated_at <= p.at
         ORDER BY q.source_updated_at DESC LIMIT 1)
       UNION ALL
       (SELECT price_usd, market_cap_usd, source_updated_at FROM quotes q
         WHERE q.source = p.source AND q.source_asset_id = p.id AND q.source_updated_at > p.at
         ORDER BY q.source_updated_at LIMIT 1)
     ) n`;
  const nearest = new Map<string, Observation & { distanceMs: number }>();
  for (const row of rows) {
    const key = (pairs[Number(row.i) - 1] as (typeof pairs)[number]).key;
    const distanceMs = Math.abs(row.at.getTime() - row.target.getTime());
    const seen = nearest.get(key);
    if (!seen || distanceMs < seen.distanceMs) nearest.set(key, { priceUsd: row.price, marketCapUsd: row.cap, observedAt: row.at, distanceMs });
  }
  return nearest;
}

/**
 * The candidates as this incoming listing sees them: stored listings carry their quote nearest to it;
 * listings matched earlier in this batch keep the observation they came with.
 */
function withObservations(incoming: Listing, candidates: readonly Candidate[], observed: ReadonlyMap<string, Observation>): Candidate[] {
  return candidates.map((c) => ({
    assetId: c.assetId,
    listings: c.listings.map((l) => (l.observation ? l : { ...l, observation: observed.get(pairKey(incoming, l)) })),
  }));
}

async function knownAssets(db: Db, source: string, ids: readonly string[]): Promise<Map<string, string>> {
  const rows = await db<{ id: string; assetId: string }[]>`
    SELECT m.source_asset_id AS id, m.asset_id::text AS "assetId"
      FROM unnest(${ids as string[]}::text[]) AS i(id)
      JOIN asset_mappings m ON m.source = ${source} AND m.source_asset_id = i.id`;
  return new Map(rows.map((r) => [r.id, r.assetId]));
}

async function overridesFor(db: Db, source: string, ids: readonly string[]): Promise<Map<string, string>> {
  const rows = await db<{ id: string; assetId: string }[]>`
    SELECT source_asset_id AS id, asset_id::text AS "assetId" FROM asset_overrides
     WHERE source = ${source} AND source_asset_id = ANY(${ids as string[]}::text[])`;
  return new Map(rows.map((r) => [r.id, r.assetId]));
}

/** Assets already listed under these symbol keys, grouped by key. */
async function candidatesFor(db: Db, keys: readonly string[]): Promise<Map<string, Candidate[]>> {
  const rows = await db<(Listing & { assetId: string; symbolKey: string })[]>`
    SELECT asset_id::text AS "assetId", symbol_key AS "symbolKey", source, source_asset_id AS "sourceAssetId", symbol, name, rank
      FROM asset_mappings WHERE symbol_key = ANY(${[...new Set(keys)]}::text[])`;
  const byAsset = new Map<string, Candidate & { symbolKey: string }>();
  for (const { assetId, symbolKey: key, ...listing } of rows) {
    const candidate = byAsset.get(assetId) ?? { assetId, symbolKey: key, listings: [] };
    candidate.listings.push(listing);
    byAsset.set(assetId, candidate);
  }
  const bySymbol = new Map<string, Candidate[]>();
  for (const { symbolKey: key, ...candidate } of byAsset.values()) bySymbol.set(key, [...(bySymbol.get(key) ?? []), candidate]);
  return bySymbol;
}

async function createAssets(db: Db, listings: readonly Listing[]): Promise<string[]> {
  if (listings.length === 0) return [];
  // Ids are drawn first so each new asset is paired with its listing without relying on RETURNING order.
  const ids = (
    await db<{ id: string }[]>`
      SELECT nextval(pg_get_serial_sequence('assets', 'asset_id'))::text AS id FROM generate_series(1, ${listings.length})`
  ).map((r) => r.id);
  await db`
    INSERT INTO assets (asset_id, symbol, name) OVERRIDING SYSTEM VALUE
    SELECT * FROM unnest(${ids}::bigint[], ${listings.map((l) => l.symbol)}::text[], ${listings.map((l) => l.name)}::text[])`;
  return ids;
}

async function insertMappings(db: Db, source: string, rows: readonly MappingRow[]): Promise<void> {
  await db`
    INSERT INTO asset_mappings (source, source_asset_id, asset_id, method, confidence, symbol, symbol_key, name, rank,
                                evidence, review_candidate_id, review_reason, review_confidence, review_evidence)
    SELECT ${source}, t.source_asset_id, t.asset_id, t.method, t.confidence, t.symbol, t.symbol_key, t.name, t.rank,
           t.evidence::jsonb, t.review_candidate_id, t.review_reason, t.review_confidence, t.review_evidence::jsonb
      FROM unnest(
      ${rows.map((r) => r.listing.sourceAssetId)}::text[],
      ${rows.map((r) => r.assetId)}::bigint[],
      ${rows.map((r) => r.method)}::text[],
      ${rows.map((r) => r.confidence)}::numeric[],
      ${rows.map((r) => r.listing.symbol)}::text[],
      ${rows.map((r) => symbolKey(r.listing.symbol))}::text[],
      ${rows.map((r) => r.listing.name)}::text[],
      ${rows.map((r) => r.listing.rank)}::integer[],
      ${rows.map((r) => json(r.evidence))}::text[],
      ${rows.map((r) => r.review?.assetId ?? null)}::bigint[],
      ${rows.map((r) => r.review?.reason ?? null)}::text[],
      ${rows.map((r) => r.review?.confidence ?? null)}::numeric[],
      ${rows.map((r) => json(r.review?.evidence))}::text[]
    ) AS t(source_asset_id, asset_id, method, confidence, symbol, symbol_key, name, rank, evidence, review_candidate_id,
           review_reason, review_confidence, review_evidence)
    ON CONFLICT (source, source_asset_id) DO NOTHING`;
}

/** As text: postgres.js would encode a string inside a jsonb[] parameter once more, as a JSON string. */
const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

/**
 * Recomputes every stored symbol key with symbolKey (a migration step: the stored keys are where candidates
 * are looked up, so they must be the current function's). Returns how many changed.
 */
export async function rekeySymbols(db: Db): Promise<number> {
  const rows = await db<{ source: string; id: string; symbol: string; key: string }[]>`
    SELECT source, source_asset_id AS id, symbol, symbol_key AS key FROM asset_mappings`;
  const changed = rows.filter((r) => symbolKey(r.symbol) !== r.key);
  if (changed.length === 0) return 0;
  await db`
    UPDATE asset_mappings m SET symbol_key = t.key
      FROM unnest(${changed.map((r) => r.source)}::text[], ${changed.map((r) => r.id)}::text[],
                  ${changed.map((r) => symbolKey(r.symbol))}::text[]) AS t(source, id, key)
     WHERE m.source = t.source AND m.source_asset_id = t.id`;
  return changed.length;
}
