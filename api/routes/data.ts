import { countQuotes, listQuotes, SORT_KEYS, type Direction, type QuoteFilter, type SortKey } from '../../src/db/quote-queries';
import type { ChangeFeed } from '../../src/db/change-feed';
import type { Sql } from '../../src/db/sql';
import { decodeCursor, encodeCursor } from '../cursor';
import { readCache } from '../read-cache';
import { envelope } from '../middleware/request-context';
import { defineRoute } from '../route';
import { z } from '../zod';
import { Envelope, Quote, sourceParam } from '../schemas';

const SORTS = [...SORT_KEYS, ...SORT_KEYS.flatMap((k) => [`${k}_asc`, `${k}_desc`])] as const;
/** Bare keys take their natural direction: biggest first, except symbols, A to Z. */
const NATURAL: Record<SortKey, Direction> = { market_cap: 'desc', price: 'desc', symbol: 'asc', observed_at: 'desc' };

export const DataQuery = z
  .object({
    source: sourceParam.optional(),
    symbol: z.string().trim().min(1).max(50).optional(),
    asset_id: z.string().regex(/^\d{1,18}$/, 'must be a numeric asset id').optional(),
    q: z.string().trim().min(1).max(100).optional().openapi({ description: 'search in name and symbol' }),
    from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'history from (inclusive)' }),
    to: z.iso.datetime({ offset: true }).optional(),
    sort: z.enum(SORTS).default('market_cap_desc'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
    cursor: z.string().max(1000).optional().openapi({ description: 'next_cursor of the previous page' }),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from must not be after to', path: ['from'] });

export const DataResponse = Envelope.extend({
  pagination: z.object({
    limit: z.number().int(),
    offset: z.number().int(),
    total: z.number().int(),
    next_cursor: z.string().nullable(),
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
  const totals = readCache<number>(readCacheMs, fresh);
  const countCached = (filter: QuoteFilter) => totals(JSON.stringify(filter), () => countQuotes(sql, filter));
  return defineRoute({
    method: 'get',
    path: '/data',
    summary: 'Unified quotes: the latest per asset and source, or history with from/to',
    tags: ['data'],
    query: DataQuery,
    responses: { 200: { description: 'a page of quotes', schema: DataResponse }, 400: { description: 'bad parameter' } },
    async handler({ query, req }) {
      const page = await pages(JSON.stringify(query), () => pageJson(sql, query, countCached));
      // The envelope is the request's own; the page after it is shared: `{"request_id":…,"api_latency_ms":…,` + page.
      return { status: 200, contentType: 'application/json', body: `${JSON.stringify(envelope(req)).slice(0, -1)},${page.slice(1)}` };
    },
  });
}

/** `{"pagination":…,"data":[…]}` for one parsed query. */
async function pageJson(
  sql: Sql,
  query: z.infer<typeof DataQuery>,
  count: (filter: QuoteFilter) => Promise<number>,
): Promise<string> {
  const [key, dir] = query.sort.split(/_(?=asc$|desc$)/) as [SortKey, Direction | undefined];
  const filter: QuoteFilter = {
    source: query.source,
    symbol: query.symbol,
    assetId: query.asset_id,
    q: query.q,
    from: query.from ? new Date(query.from) : undefined,
    to: query.to ? new Date(query.to) : undefined,
  };
  const [total, page] = await Promise.all([
    count(filter),
    listQuotes(sql, {
      filter,
      sort: key,
      direction: dir ?? NATURAL[key],
      limit: query.limit,
      offset: query.offset,
      ...(query.cursor ? { after: decodeCursor(query.cursor) } : {}),
    }),
  ]);
  const next_cursor = page.last ? encodeCursor(page.last) : null;
  return JSON.stringify({ pagination: { limit: query.limit, offset: query.offset, total, next_cursor }, data: page.rows });
}
