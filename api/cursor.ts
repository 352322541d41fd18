import { createHash } from 'node:crypto';
import type { Keyset, QuoteFilter, SortValueKind } from '../src/db/quote-queries';
import { badRequest } from './errors';
import { isStorableText, storableText, z } from './zod';

/**
 * Opaque page cursors: base64url JSON of the keyset of the last row served, with the sort and a digest of the
 * filters of the page that issued it. Whatever a client sends back, it is a cursor of this page's query, whose
 * every value is of the type PostgreSQL will be asked to compare it as, or a 400 naming `cursor`.
 */

/** What a cursor is valid for: the sort and the filters of the page that issued it. */
export interface CursorScope {
  sort: string;
  filter: QuoteFilter;
}

/** Longer than any cursor this API issues (a listing id is at most 200 characters: src/schemas/quote.ts). */
export const CURSOR_MAX_LENGTH = 4096;

const VERSION = 1;

/** PostgreSQL's text of a numeric: `-1`, `61234.5`, and the special values it accepts back. */
const NUMERIC = /^(?:-?\d+(?:\.\d+)?|NaN|-?Infinity)$/;
/** A keyset timestamp (src/db/quote-queries.ts): `2026-01-05T10:00:00.123456Z`. */
const TIMESTAMP = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$/;

/** A calendar date and time that exists: the regex lets `2026-02-30` and `24:00` through, Date.parse rolls them over. */
export function isKeysetTimestamp(text: string): boolean {
  const match = TIMESTAMP.exec(text);
  if (!match || Number(match[1]) < 1) return false;
  const ms = Date.parse(`${text.slice(0, 19)}Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === text.slice(0, 19);
}

const VALUE_CHECKS: Record<SortValueKind, { valid(value: string): boolean; expected: string }> = {
  numeric: { valid: (v) => NUMERIC.test(v), expected: 'a number' },
  text: { valid: isStorableText, expected: 'text' },
  timestamp: { valid: isKeysetTimestamp, expected: 'a timestamp' },
};

const Payload = z.object({
  v: z.literal(VERSION),
  sort: z.string(),
  filter: z.string(),
  /** [sort value, source, source_asset_id, observed at] */
  after: z.tuple([z.string(), storableText(), storableText(), z.string().refine(isKeysetTimestamp)]),
});

export function encodeCursor(keyset: Keyset, scope: CursorScope): string {
  const payload: z.infer<typeof Payload> = {
    v: VERSION,
    sort: scope.sort,
    filter: filterDigest(scope.filter),
    after: [keyset.value, keyset.source, keyset.sourceAssetId, keyset.observedAt],
  };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/** The keyset a cursor holds, when it was issued for this scope and its sort value is a `kind`; else a 400. */
export function decodeCursor(cursor: string, scope: CursorScope, kind: SortValueKind): Keyset {
  const payload = parse(cursor);
  if (!payload) throw badRequest('cursor', 'not a cursor this API issued: pass next_cursor as it came');
  const again = 'pass it with the sort and filters of the page that returned it, or start again without a cursor';
  if (payload.sort !== scope.sort) {
    const issued = /^[a-z_]{1,40}$/.test(payload.sort) ? `sort=${payload.sort}` : 'another sort';
    throw badRequest('cursor', `issued for ${issued}, not sort=${scope.sort}: ${again}`);
  }
  if (payload.filter !== filterDigest(scope.filter)) {
    throw badRequest('cursor', `issued for other filters (source, symbol, asset_id, q, from, to): ${again}`);
  }
  const [value, source, sourceAssetId, observedAt] = payload.after;
  if (!VALUE_CHECKS[kind].valid(value)) throw badRequest('cursor', `its sort value is not ${VALUE_CHECKS[kind].expected}`);
  return { value, source, sourceAssetId, observedAt };
}

function parse(cursor: string): z.infer<typeof Payload> | undefined {
  if (cursor.length > CURSOR_MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const parsed = Payload.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // not JSON
  }
}

/** The filters, as a short digest: a cursor names its sort, but need not carry the filters back and forth. */
function filterDigest(filter: QuoteFilter): string {
  return createHash('sha256').update(JSON.stringify(filter)).digest('base64url').slice(0, 16);
}
