import { ConflictError } from './conflict';
import { nameByPrecedence } from './assets';
import { lockIdentity } from './identity-lock';
import type { Db, Sql } from './sql';

/**
 * What a person does about identity: merge two assets, split a listing off its asset, point a listing at an
 * asset (an override), accept or reject a review. Each runs in one transaction under the exclusive identity lock
 * (loads hold it shared while they resolve and write: identity-lock.ts), moves the history of every listing it
 * moves (quotes and latest_quotes re-pointed, never copied or dropped), records an override so later loads keep
 * the decision, and writes one identity_audit row. Asking again for what is already so changes nothing and says
 * so (`already: true`).
 */

export interface ListingRef {
  source: string;
  source_asset_id: string;
}

export interface IdentityOutcome {
  operation: 'merge' | 'split' | 'override' | 'accept' | 'reject';
  /** True when nothing had to change: the data already said this. No audit row is written then. */
  already: boolean;
  audit_id: string | null;
  from_asset_id: string | null;
  to_asset_id: string | null;
  listings: ListingRef[];
  quotes_moved: number;
  latest_moved: number;
}

export class IdentityConflict extends ConflictError {
  override readonly name = 'IdentityConflict';
}

export class IdentityNotFound extends Error {
  override readonly name = 'IdentityNotFound';
}

interface Who {
  actor: string;
  note?: string | undefined;
}

interface MappingRow {
  source: string;
  source_asset_id: string;
  asset_id: string;
  symbol: string;
  name: string;
  review_candidate_id: string | null;
  review_outcome: string | null;
}

/** Merges `from` into `into`: every listing of `from` moves, then `from` is gone. */
export function mergeAssets(sql: Sql, args: Who & { from: string; into: string }, precedence: readonly string[]): Promise<IdentityOutcome> {
  return inIdentityTransaction(sql, (tx) => merge(tx, { ...args, from: canonicalId(args.from), into: canonicalId(args.into), operation: 'merge' }, precedence));
}

/** Splits one listing off its asset onto a new asset of its own, and rejects any review that would join them again. */
export function splitListing(sql: Sql, args: Who & ListingRef, precedence: readonly string[]): Promise<IdentityOutcome> {
  return inIdentityTransaction(sql, async (tx) => {
    const listing = await mappingOf(tx, args);
    const siblings = await listingsOf(tx, listing.asset_id);
    if (siblings.length === 1) {
      const split = await auditRow(tx, { operation: 'split', source: args.source, id: args.source_asset_id, to: listing.asset_id });
      if (split) return unchanged('split', split.from_asset_id, listing.asset_id, [ref(listing)]);
      throw new IdentityConflict(`${describe(listing)} is the only listing of asset ${listing.asset_id}: there is nothing to split it from`);
    }
    const [created] = await tx<{ id: string }[]>`
      INSERT INTO assets (symbol, name) VALUES (${listing.symbol}, ${listing.name}) RETURNING asset_id::text AS id`;
    const to = (created as { id: string }).id;
    const moved = await moveListings(tx, [ref(listing)], to, args);
    // A person said these differ: the old asset is not suggested to this listing again.
    await tx`
      UPDATE asset_mappings SET review_candidate_id = ${listing.asset_id}, review_outcome = 'rejected',
             review_settled_at = now(), review_settled_by = ${args.actor},
             review_reason = 'split off by hand', review_confidence = NULL, review_evidence = NULL
       WHERE source = ${args.source} AND source_asset_id = ${args.source_asset_id}`;
    await nameByPrecedence(tx, [listing.asset_id], precedence);
    return audited(tx, { operation: 'split', from: listing.asset_id, to, listings: [ref(listing)], moved, who: args });
  });
}

/** Points one listing at an asset by hand; its old asset goes when this was its last listing. */
export function pointListing(sql: Sql, request: Who & ListingRef & { assetId: string }, precedence: readonly string[]): Promise<IdentityOutcome> {
  const args = { ...request, assetId: canonicalId(request.assetId) };
  return inIdentityTransaction(sql, async (tx) => {
    await assetExists(tx, args.assetId);
    const listing = await mappingOf(tx, args);
    // Already there: nothing is written, not even an override (nothing would differ for later loads).
    if (listing.asset_id === args.assetId) return unchanged('override', listing.asset_id, args.assetId, [ref(listing)]);
    await refuseSecondListing(tx, [ref(listing)], args.assetId);
    const moved = await moveListings(tx, [ref(listing)], args.assetId, args);
    await retireIfEmpty(tx, listing.asset_id, args.assetId);
    await nameByPrecedence(tx, [args.assetId, listing.asset_id], precedence);
    return audited(tx, { operation: 'override', from: listing.asset_id, to: args.assetId, listings: [ref(listing)], moved, who: args });
  });
}

/** Accepts a review: the listing's asset merges into the candidate, and the review is settled as accepted. */
export function acceptReview(sql: Sql, args: Who & ListingRef, precedence: readonly string[]): Promise<IdentityOutcome> {
  return inIdentityTransaction(sql, async (tx) => {
    const listing = await reviewed(tx, args);
    if (listing.review_outcome === 'rejected') throw new IdentityConflict(`the review of ${describe(listing)} was rejected already`);
    const candidate = listing.review_candidate_id as string;
    if (listing.review_outcome === 'accepted' || listing.asset_id === candidate) {
      await settle(tx, args, 'accepted');
      return unchanged('accept', listing.asset_id, candidate, [ref(listing)]);
    }
    const outcome = await merge(tx, { ...args, from: listing.asset_id, into: candidate, operation: 'accept' }, precedence);
    await settle(tx, args, 'accepted');
    return outcome;
  });
}

/** Rejects a review: the listing stays an asset of its own, and the pair is not listed again. */
export function rejectReview(sql: Sql, args: Who & ListingRef): Promise<IdentityOutcome> {
  return inIdentityTransaction(sql, async (tx) => {
    const listing = await reviewed(tx, args);
    const candidate = listing.review_candidate_id as string;
    if (listing.review_outcome === 'accepted') throw new IdentityConflict(`the review of ${describe(listing)} was accepted already`);
    if (listing.review_outcome === 'rejected') return unchanged('reject', listing.asset_id, candidate, [ref(listing)]);
    await settle(tx, args, 'rejected');
    return audited(tx, { operation: 'reject', from: listing.asset_id, to: candidate, listings: [ref(listing)], moved: none, who: args });
  });
}

async function inIdentityTransaction<T>(sql: Sql, work: (tx: Db) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    await lockIdentity(tx, 'exclusive');
    return work(tx);
  }) as Promise<T>;
}

async function merge(
  tx: Db,
  args: Who & { from: string; into: string; operation: 'merge' | 'accept' },
  precedence: readonly string[],
): Promise<IdentityOutcome> {
  if (args.from === args.into) throw new IdentityConflict(`asset ${args.from} cannot be merged into itself`);
  await assetExists(tx, args.into);
  const [from] = await tx<{ id: string }[]>`SELECT asset_id::text AS id FROM assets WHERE asset_id = ${args.from}`;
  if (!from) {
    const done = await auditRow(tx, { operation: args.operation, from: args.from, to: args.into });
    if (done) return unchanged(args.operation, args.from, args.into, done.listings);
    throw new IdentityNotFound(`asset ${args.from}`);
  }
  const listings = (await listingsOf(tx, args.from)).map(ref);
  await refuseSecondListing(tx, listings, args.into);
  const moved = await moveListings(tx, listings, args.into, args);
  await retireIfEmpty(tx, args.from, args.into);
  await nameByPrecedence(tx, [args.into], precedence);
  return audited(tx, { operation: args.operation, from: args.from, to: args.into, listings, moved, who: args });
}

/**
 * Re-points the listings to `to`: every row of their history, their mappings (as overrides, confidence 1), and
 * their override rows. One statement per table, each over the listings' primary keys. History first, so the
 * override's trigger (sql/011) finds nothing left to move and the counts here are the whole of it.
 */
async function moveListings(tx: Db, listings: readonly ListingRef[], to: string, who: Who): Promise<Moved> {
  const sources = listings.map((l) => l.source);
  const ids = listings.map((l) => l.source_asset_id);
  const pairs = tx`unnest(${sources}::text[], ${ids}::text[]) AS l(source, id)`;
  const quotes = await tx`
    UPDATE quotes q SET asset_id = ${to} FROM ${pairs}
     WHERE q.source = l.source AND q.source_asset_id = l.id AND q.asset_id <> ${to}`;
  const latest = await tx`
    UPDATE latest_quotes q SET asset_id = ${to} FROM ${pairs}
     WHERE q.source = l.source AND q.source_asset_id = l.id AND q.asset_id <> ${to}`;
  await tx`
    UPDATE asset_mappings m SET asset_id = ${to}, method = 'override', confidence = 1
      FROM ${pairs} WHERE m.source = l.source AND m.source_asset_id = l.id`;
  await keepOverride(tx, listings, to, who);
  // A review whose listing now sits on its candidate has been answered.
  await tx`
    UPDATE asset_mappings m SET review_outcome = 'accepted', review_settled_at = now(), review_settled_by = ${who.actor}
      FROM ${pairs} WHERE m.source = l.source AND m.source_asset_id = l.id
       AND m.review_candidate_id = ${to} AND m.review_outcome IS NULL`;
  return { quotes: quotes.count, latest: latest.count };
}

async function keepOverride(tx: Db, listings: readonly ListingRef[], to: string, who: Who): Promise<void> {
  await tx`
    INSERT INTO asset_overrides (source, source_asset_id, asset_id, note)
    SELECT source, id, ${to}, ${who.note ?? `set by ${who.actor}`}
      FROM unnest(${listings.map((l) => l.source)}::text[], ${listings.map((l) => l.source_asset_id)}::text[]) AS l(source, id)
    ON CONFLICT (source, source_asset_id) DO UPDATE SET asset_id = excluded.asset_id, note = excluded.note, created_at = now()`;
}

/** One asset never holds two ids of one source: a move that would make it so is refused, naming both. */
async function refuseSecondListing(tx: Db, moving: readonly ListingRef[], to: string): Promise<void> {
  const there = await listingsOf(tx, to);
  for (const l of moving) {
    const clash = there.find((t) => t.source === l.source && t.source_asset_id !== l.source_asset_id);
    if (clash) {
      throw new IdentityConflict(
        `asset ${to} already holds ${describe(clash)}: one source never maps two ids (${clash.source_asset_id}, ${l.source_asset_id}) onto one asset`,
      );
    }
  }
}

/** Drops an asset left without listings, pointing what still names it (reviews, overrides) at its successor. */
async function retireIfEmpty(tx: Db, assetId: string, successor: string): Promise<void> {
  if ((await listingsOf(tx, assetId)).length > 0) return;
  // Reviews against the retired asset are now about its successor; those of listings already on it are answered.
  await tx`
    UPDATE asset_mappings SET review_candidate_id = ${successor},
           review_outcome = CASE WHEN asset_id = ${successor} AND review_outcome IS NULL THEN 'accepted' ELSE review_outcome END,
           review_settled_at = CASE WHEN asset_id = ${successor} AND review_outcome IS NULL THEN now() ELSE review_settled_at END
     WHERE review_candidate_id = ${assetId}`;
  await tx`UPDATE asset_overrides SET asset_id = ${successor} WHERE asset_id = ${assetId}`;
  await tx`DELETE FROM assets WHERE asset_id = ${assetId}`;
}

async function mappingOf(tx: Db, l: ListingRef): Promise<MappingRow> {
  const [row] = await tx<MappingRow[]>`
    SELECT source, source_asset_id, asset_id::text, symbol, name, review_candidate_id::text, review_outcome
      FROM asset_mappings WHERE source = ${l.source} AND source_asset_id = ${l.source_asset_id}`;
  if (!row) throw new IdentityNotFound(`listing ${l.source}/${l.source_asset_id}`);
  return row;
}

async function reviewed(tx: Db, l: ListingRef): Promise<MappingRow> {
  const row = await mappingOf(tx, l);
  if (!row.review_candidate_id) throw new IdentityNotFound(`review of ${l.source}/${l.source_asset_id}`);
  return row;
}

const listingsOf = (tx: Db, assetId: string) => tx<MappingRow[]>`
  SELECT source, source_asset_id, asset_id::text, symbol, name, review_candidate_id::text, review_outcome
    FROM asset_mappings WHERE asset_id = ${assetId} ORDER BY source, source_asset_id`;

async function assetExists(tx: Db, assetId: string): Promise<void> {
  const [row] = await tx`SELECT 1 FROM assets WHERE asset_id = ${assetId}`;
  if (!row) throw new IdentityNotFound(`asset ${assetId}`);
}

async function settle(tx: Db, l: ListingRef & Who, outcome: 'accepted' | 'rejected'): Promise<void> {
  await tx`
    UPDATE asset_mappings SET review_outcome = ${outcome}, review_settled_at = now(), review_settled_by = ${l.actor}
     WHERE source = ${l.source} AND source_asset_id = ${l.source_asset_id} AND review_outcome IS NULL`;
}

/** The newest audit row of an operation already carried out, for the idempotent answer. */
async function auditRow(
  tx: Db,
  match: { operation: string; from?: string; to?: string; source?: string; id?: string },
): Promise<{ from_asset_id: string; listings: ListingRef[] } | undefined> {
  const [row] = await tx<{ from_asset_id: string; listings: ListingRef[] }[]>`
    SELECT from_asset_id::text, listings FROM identity_audit
     WHERE operation = ${match.operation}
       AND (${match.from ?? null}::bigint IS NULL OR from_asset_id = ${match.from ?? null})
       AND (${match.to ?? null}::bigint IS NULL OR to_asset_id = ${match.to ?? null})
       AND (${match.source ?? null}::text IS NULL OR (source = ${match.source ?? null} AND source_asset_id = ${match.id ?? null}))
     ORDER BY id DESC LIMIT 1`;
  return row;
}

interface Moved {
  quotes: number;
  latest: number;
}
const none: Moved = { quotes: 0, latest: 0 };

async function audited(
  tx: Db,
  a: { operation: IdentityOutcome['operation']; from: string; to: string; listings: ListingRef[]; moved: Moved; who: Who },
): Promise<IdentityOutcome> {
  const one = a.listings.length === 1 && a.operation !== 'merge' ? a.listings[0] : undefined;
  const [row] = await tx<{ id: string }[]>`
    INSERT INTO identity_audit (actor, operation, source, source_asset_id, from_asset_id, to_asset_id, quotes_moved,
                                latest_moved, listings, note)
    VALUES (${a.who.actor}, ${a.operation}, ${one?.source ?? null}, ${one?.source_asset_id ?? null}, ${a.from}, ${a.to},
            ${a.moved.quotes}, ${a.moved.latest}, ${JSON.stringify(a.listings)}::text::jsonb, ${a.who.note ?? null})
    RETURNING id::text`;
  return {
    operation: a.operation,
    already: false,
    audit_id: row?.id ?? null,
    from_asset_id: a.from,
    to_asset_id: a.to,
    listings: a.listings,
    quotes_moved: a.moved.quotes,
    latest_moved: a.moved.latest,
  };
}

function unchanged(operation: IdentityOutcome['operation'], from: string | null, to: string | null, listings: ListingRef[]): IdentityOutcome {
  return { operation, already: true, audit_id: null, from_asset_id: from, to_asset_id: to, listings, quotes_moved: 0, latest_moved: 0 };
}

/** `07` and `7` are one asset: ids are compared as the database writes them. */
const canonicalId = (id: string): string => BigInt(id).toString();

const ref = (m: ListingRef): ListingRef => ({ source: m.source, source_asset_id: m.source_asset_id });
const describe = (m: ListingRef & { name?: string }) => `${m.source} listing ${m.source_asset_id}${m.name ? ` ("${m.name}")` : ''}`;
