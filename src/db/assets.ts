import { decide, symbolKey, type Candidate, type Listing } from '../identity/match';
import type { Db } from './sql';

/**
 * Maps each listing of one source to a canonical asset id, creating assets and mappings for ids seen for the
 * first time. Overrides win; known ids cost one indexed lookup; only new ids take the resolution lock, so two
 * sources meeting Bitcoin for the first time at once still agree on one asset.
 */
export async function resolveAssets(db: Db, source: string, listings: readonly Listing[]): Promise<Map<string, string>> {
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
  const mappings: MappingRow[] = [];
  const fresh: Listing[] = [];
  for (const listing of pending) {
    const override = overrides.get(listing.sourceAssetId);
    const candidates = bySymbol.get(symbolKey(listing.symbol)) ?? [];
    const decision = override ? undefined : decide(listing, candidates);
    if (override || decision?.kind === 'matched') {
      const assetId = override ?? (decision as { assetId: string }).assetId;
      mappings.push({ listing, assetId, method: override ? 'override' : 'matched', confidence: decision?.confidence ?? 1 });
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
  for (const m of mappings) resolved.set(m.listing.sourceAssetId, m.assetId);
  return resolved;
}

interface MappingRow {
  listing: Listing;
  assetId: string;
  method: 'override' | 'matched' | 'new';
  confidence: number;
  review?: { assetId: string; confidence: number; reason: string } | undefined;
}

async function knownAssets(db: Db, source: string, ids: readonly string[]): Promise<Map<string, string>> {
  const rows = await db<{ id: string; assetId: string }[]>`
    SELECT m.source_asset_id AS id, COALESCE(o.asset_id, m.asset_id)::text AS "assetId"
      FROM unnest(${ids as string[]}::text[]) AS i(id)
      JOIN asset_mappings m ON m.source = ${source} AND m.source_asset_id = i.id
      LEFT JOIN asset_overrides o ON o.source = m.source AND o.source_asset_id = m.source_asset_id`;
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
                                review_candidate_id, review_reason)
    SELECT ${source}, t.* FROM unnest(
      ${rows.map((r) => r.listing.sourceAssetId)}::text[],
      ${rows.map((r) => r.assetId)}::bigint[],
      ${rows.map((r) => r.method)}::text[],
      ${rows.map((r) => r.confidence)}::numeric[],
      ${rows.map((r) => r.listing.symbol)}::text[],
      ${rows.map((r) => symbolKey(r.listing.symbol))}::text[],
      ${rows.map((r) => r.listing.name)}::text[],
      ${rows.map((r) => r.listing.rank)}::integer[],
      ${rows.map((r) => r.review?.assetId ?? null)}::bigint[],
      ${rows.map((r) => r.review?.reason ?? null)}::text[]
    ) AS t
    ON CONFLICT (source, source_asset_id) DO NOTHING`;
}
