import type { PendingQuery, Row } from 'postgres';
import type { Db } from './sql';

/** Read side of quotes for the API: latest per listing by default, history when a time range is given. */

export const SORT_KEYS = ['market_cap', 'price', 'symbol', 'observed_at'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type Direction = 'asc' | 'desc';

export interface QuoteFilter {
  source?: string | undefined;
  symbol?: string | undefined;
  assetId?: string | undefined;
  /** Case-insensitive search in name and symbol. */
  q?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface QuoteView {
  asset_id: string;
  symbol: string;
  name: string;
  source: string;
  source_asset_id: string;
  price_usd: number;
  market_cap_usd: number | null;
  volume_24h_usd: number | null;
  percent_change_24h: number | null;
  rank: number | null;
  observed_at: Date;
  ingested_at: Date;
}

/**
 * How each sort key's value is written in a keyset: a numeric's PostgreSQL text (exact, `-1` for an unknown
 * market cap), the text compared, or a timestamp in ISO 8601 UTC to the microsecond.
 */
export const SORT_VALUE_KINDS = {
  market_cap: 'numeric',
  price: 'numeric',
  symbol: 'text',
  observed_at: 'timestamp',
} as const satisfies Record<SortKey, 'numeric' | 'text' | 'timestamp'>;
export type SortValueKind = (typeof SORT_VALUE_KINDS)[SortKey];

/** Where the previous page ended: the sort value and the unique tie-breakers (observedAt as a keyset timestamp). */
export interface Keyset {
  value: string;
  source: string;
  sourceAssetId: string;
  observedAt: string;
}

export interface QuotePage {
  rows: QuoteView[];
  last: Keyset | null;
}

export async function listQuotes(
  db: Db,
  args: { filter: QuoteFilter; sort: SortKey; direction: Direction; limit: number; offset: number; after?: Keyset },
): Promise<QuotePage> {
  const { table, where } = scope(db, args.filter);
  // Sort expressions never yield NULL, so keyset comparisons stay total; an unknown market cap sorts as -1.
  const key = {
    market_cap: db`COALESCE(market_cap_usd, -1)`,
    price: db`price_usd`,
    symbol: db`upper(symbol)`,
    observed_at: db`source_updated_at`,
  }[args.sort];
  const desc = args.direction === 'desc';
  // Typed parameters: the keyset comes from a client's cursor, and PostgreSQL is told what each value must be.
  const value = args.after ? { numeric: db`${args.after.value}::numeric`, text: db`${args.after.value}::text`, timestamp: db`${args.after.value}::timestamptz` }[SORT_VALUE_KINDS[args.sort]] : db``;
  const after = args.after
    ? desc
      ? db`AND (${key}, source, source_asset_id, source_updated_at) < (${value}, ${args.after.source}::text, ${args.after.sourceAssetId}::text, ${args.after.observedAt}::timestamptz)`
      : db`AND (${key}, source, source_asset_id, source_updated_at) > (${value}, ${args.after.source}::text, ${args.after.sourceAssetId}::text, ${args.after.observedAt}::timestamptz)`
    : db``;
  const sortValue = { numeric: db`(${key})::text`, text: db`(${key})::text`, timestamp: keysetTime(db, key) }[SORT_VALUE_KINDS[args.sort]];
  const order = desc
    ? db`ORDER BY ${key} DESC, source DESC, source_asset_id DESC, source_updated_at DESC`
    : db`ORDER BY ${key} ASC, source ASC, source_asset_id ASC, source_updated_at ASC`;

  const rows = await db<(QuoteView & { sort_value: string; keyset_observed_at: string })[]>`
      SELECT asset_id::text, symbol, name, source, source_asset_id, price_usd::float8 AS price_usd,
             market_cap_usd::float8 AS market_cap_usd, volume_24h_usd::float8 AS volume_24h_usd,
             percent_change_24h::float8 AS percent_change_24h, rank, source_updated_at AS observed_at, ingested_at,
             ${sortValue} AS sort_value, ${keysetTime(db, db`source_updated_at`)} AS keyset_observed_at
        FROM ${table} ${where} ${after}
        ${order}
       LIMIT ${args.limit} OFFSET ${args.after ? 0 : args.offset}`;
  const lastRow = rows.at(-1);
  const last =
    lastRow && rows.length === args.limit
      ? { value: lastRow.sort_value, source: lastRow.source, sourceAssetId: lastRow.source_asset_id, observedAt: lastRow.keyset_observed_at }
      : null;
  return { rows: rows.map(({ sort_value: _, keyset_observed_at: __, ...row }) => row), last };
}

/** A timestamp as a keyset holds it: ISO 8601 in UTC with microseconds, whatever the session's DateStyle and TimeZone. */
function keysetTime(db: Db, column: PendingQuery<Row[]>) {
  return db`to_char((${column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/**
 * History totals are counted up to this many rows. Past it an exact count costs a scan of every match (10M rows
 * for all listings over all history: seconds), for a figure no one pages through.
 */
export const HISTORY_COUNT_LIMIT = 10_000;

/**
 * How many quotes match the filter: latest per listing, exact (one row per listing); history, exact up to
 * HISTORY_COUNT_LIMIT, past which `exact` is false and `total` the limit.
 */
export async function countQuotes(db: Db, filter: QuoteFilter): Promise<{ total: number; exact: boolean }> {
  const { table, where, history } = scope(db, filter);
  const bounded = history ? db`LIMIT ${HISTORY_COUNT_LIMIT + 1}` : db``;
  const [row] = await db<{ total: number }[]>`SELECT count(*)::int AS total FROM (SELECT 1 FROM ${table} ${where} ${bounded}) matches`;
  const total = row?.total ?? 0;
  return total > HISTORY_COUNT_LIMIT && history ? { total: HISTORY_COUNT_LIMIT, exact: false } : { total, exact: true };
}

function scope(db: Db, filter: QuoteFilter) {
  const history = filter.from !== undefined || filter.to !== undefined;
  return {
    history,
    table: history ? db`quotes` : db`latest_quotes`,
    where: db`
      WHERE true
      ${filter.source ? db`AND source = ${filter.source}` : db``}
      ${filter.symbol ? db`AND upper(symbol) = upper(${filter.symbol})` : db``}
      ${filter.assetId ? db`AND asset_id = ${filter.assetId}` : db``}
      ${filter.q ? db`AND (name ILIKE ${contains(filter.q)} OR symbol ILIKE ${contains(filter.q)})` : db``}
      ${filter.from ? db`AND source_updated_at >= ${filter.from}` : db``}
      ${filter.to ? db`AND source_updated_at <= ${filter.to}` : db``}`,
  };
}

/** An ILIKE pattern matching `text` literally anywhere. */
function contains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
