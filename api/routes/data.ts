import {
  countQuotes,
  HISTORY_COUNT_LIMIT,
  listQuotes,
  SORT_KEYS,
  SORT_VALUE_KINDS,
  type Direction,
  type Keyset,
  type QuoteFilter,
  type SortKey,
} from '../../src/db/quote-queries';
import type { ChangeFeed } from '../../src/db/change-feed';
import type { Sql } from '../../src/db/sql';
import { CURSOR_MAX_LENGTH, decodeCursor, encodeCursor } from '../cursor';
import { readCache } from '../read-cache';
import { envelope } from '../middleware/request-context';
import { defineRoute } from '../route';
import { z } from '../zod';
import { assetIdParam, Envelope, pageQuery, Quote, sourceParam } from '../schemas';

export const SORTS = [...SORT_KEYS, ...SORT_KEYS.flatMap((k) => [`${k}_asc`, `${k}_desc`])] as const;
/** Bare keys take their natural direction: biggest first, except symbols, A to Z. */
const NATURAL: Record<SortKey, Direction> = { market_cap: 'desc', price: 'desc', symbol: 'asc', observed_at: 'desc' };

const CURSOR_DOC =
  'Opaque: the `next_cursor` of the previous page, passed back unchanged with the same `sort` and filters (`source`, ' +
  '`symbol`, `asset_id`, `q`, `from`, `to`; `limit` may change). Its content is no contract and may change between ' +
  'versions; one issued for another sort or other filters, or altered, is a 400 naming `cursor`. With a cursor, `offset` is not used.';

/**
 * A history bound: an RFC 3339 date-time whose UTC instant PostgreSQL can hold. `0001-01-01T00:00:00+01:00` is
 * a valid date-time, but in UTC it falls in year 0, which timestamptz refuses (found by schemathesis: a 500).
 */
const historyBound = z.iso.datetime({ offset: true }).refine(
  (text) => {
    const year = new Date(text).getUTCFullYear();
    return year >= 1 && year <= 9999;
  },
  { message: 'must fall between the years 1 and 9999 in UTC' },
);

export const DataQuery = z
  .object({
    source: sourceParam.optional(),
    symbol: z.string().trim().min(1).max(50).optional(),
    asset_id: assetIdParam.optional(),
    q: z.string().trim().min(1).max(100).optional().openapi({ description: 'search in name and symbol' }),
    from: historyBound.optional().openapi({ description: 'history from (inclusive)' }),
    to: historyBound.optional(),
    sort: z.enum(SORTS).default('market_cap_desc'),
    ...pageQuery({ default: 50, max: 500 }),
    cursor: z.string().max(CURSOR_MAX_LENGTH).optional().openapi({ description: CURSOR_DOC }),
  })
  // As instants, not as text: 10:00+05:00 is before 06:00Z.
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { message: 'from must not be after to', path: ['from'] });
export type DataQuery = z.infer<typeof DataQuery>;

export const DataResponse = Envelope.extend({
  pagination: z.object({
    limit: z.number().int(),
    offset: z.number().int(),
    total: z.number().int().openapi({
      description: `matches; for history (from/to), counted up to ${HISTORY_COUNT_LIMIT.toLocaleString('en')}: past that, this limit, and total_exact is false`,
    }),
    total_exact: z.boolean().openapi({ description: 'false when total is the history count limit, not the count' }),
    next_cursor: z.string().nullable().openapi({ description: 'opaque: pass it as `cursor`, with the same sort and filters, for the next page; null on the last' }),
  }),
  data: z.array(Quote),
}).openapi('DataPage');

export function dataRoute(sql: Sql, readCacheMs: number, changes?: ChangeFeed) {
  // Pages are kept serialized until the next committed change to quotes (or readCacheMs, whichever comes first):
  // a popular page costs one query per load instead of one per request, and is never older than the last commit.
  const fresh = changes ? { version: changes.version } : {};
  // A page of 500 rows is ~175 KB of JSON: a few hundred distinct pages at most between two loads.
  const pages = readCache<string>(readCacheMs, { ...fresh, maxKeys: 200 });
  // Counting every match costs more than a page; the pages of one filter share their total.
  const totals = readCache<{ total: number; exact: boolean }>(readCacheMs, fresh);
  const countCached = (filter: QuoteFilter) => totals(JSON.stringify(filter), () => countQuotes(sql, filter));
  return defineRoute({
    method: 'get',
    path: '/data',
    summary: 'Unified quotes: the latest per asset and source, or history with from/to',
    tags: ['data'],
    query: DataQuery,
    responses: { 200: { description: 'a page of quotes', schema: DataResponse }, 400: { description: 'bad parameter' } },
    async handler({ query, req }) {
      const plan = pagePlan(query); // a bad cursor is a 400 before any cache or query
      const page = await pages(JSON.stringify(query), () => pageJson(sql, query, plan, countCached));
      // The envelope is the request's own; the page after it is shared: `{"request_id":…,"api_latency_ms":…,` + page.
      return { status: 200, contentType: 'application/json', body: `${JSON.stringify(envelope(req)).slice(0, -1)},${page.slice(1)}` };
    },
  });
}

interface PagePlan {
  filter: QuoteFilter;
  sort: SortKey;
  direction: Direction;
  after?: Keyset;
}

/** What the query asks of listQuotes; the cursor is decoded against the sort and filters it was issued for. */
function pagePlan(query: DataQuery): PagePlan {
  const [key, dir] = query.sort.split(/_(?=asc$|desc$)/) as [SortKey, Direction | undefined];
  const filter: QuoteFilter = {
    source: query.source,
    symbol: query.symbol,
    assetId: query.asset_id,
    q: query.q,
    from: query.from ? new Date(query.from) : undefined,
    to: query.to ? new Date(query.to) : undefined,
  };
  const scope = { sort: query.sort, filter };
  return {
    filter,
    sort: key,
    direction: dir ?? NATURAL[key],
    ...(query.cursor ? { after: decodeCursor(query.cursor, scope, SORT_VALUE_KINDS[key]) } : {}),
  };
}

/** `{"pagination":…,"data":[…]}` for one parsed query. */
async function pageJson(
  sql: Sql,
  query: DataQuery,
  plan: PagePlan,
  count: (filter: QuoteFilter) => Promise<{ total: number; exact: boolean }>,
): Promise<string> {
  const [{ total, exact }, page] = await Promise.all([
    count(plan.filter),
    listQuotes(sql, { ...plan, limit: query.limit, offset: query.offset }),
  ]);
  const next_cursor = page.last ? encodeCursor(page.last, { sort: query.sort, filter: plan.filter }) : null;
  return JSON.stringify({ pagination: { limit: query.limit, offset: query.offset, total, total_exact: exact, next_cursor }, data: page.rows });
}
