import fc from 'fast-check';
import { CURSOR_MAX_LENGTH, decodeCursor, encodeCursor, isKeysetTimestamp, type CursorScope } from '../../api/cursor';
import { HttpError } from '../../api/errors';
import { isStorableText } from '../../api/zod';
import type { Keyset, SortValueKind } from '../../src/db/quote-queries';

const KINDS: SortValueKind[] = ['numeric', 'text', 'timestamp'];

/** A keyset timestamp as src/db/quote-queries.ts writes one: UTC, microseconds. */
const keysetTimestamp = fc
  .tuple(fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), fc.integer({ min: 0, max: 999 }))
  .map(([date, micros]) => date.toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`));
const numericText = fc.oneof(
  fc.bigInt().map(String),
  fc.tuple(fc.bigInt(), fc.nat()).map(([int, frac]) => `${int}.${frac}`),
  fc.constantFrom('-1', 'NaN', 'Infinity', '-Infinity'),
);
const text = (maxLength: number) => fc.string({ unit: 'binary', maxLength }).filter(isStorableText);

const valueOf: Record<SortValueKind, fc.Arbitrary<string>> = { numeric: numericText, text: text(200), timestamp: keysetTimestamp };

/** Any keyset a page of `kind` can end on, with source ids as long as the quote contract allows. */
const keyset = (kind: SortValueKind): fc.Arbitrary<Keyset> =>
  fc.record({ value: valueOf[kind], source: text(20), sourceAssetId: text(200), observedAt: keysetTimestamp });

const scope: fc.Arbitrary<CursorScope> = fc.record({
  sort: fc.constantFrom('market_cap_desc', 'price', 'price_asc', 'symbol', 'observed_at_desc'),
  filter: fc.record(
    { source: fc.constantFrom('coingecko', 'csv'), symbol: text(50), q: text(100), from: fc.date({ noInvalidDate: true }) },
    { requiredKeys: [] },
  ),
});

/** The cursor's answer: a keyset, or the 400 naming `cursor`; anything else (a TypeError, a 500) fails. */
function outcome(cursor: string, s: CursorScope, kind: SortValueKind): Keyset | 'bad_request' {
  try {
    return decodeCursor(cursor, s, kind);
  } catch (err) {
    if (err instanceof HttpError && err.status === 400 && err.details?.[0]?.field === 'cursor') return 'bad_request';
    throw err;
  }
}

describe('page cursors', () => {
  test('When a page issues a cursor, then the same query decodes exactly its keyset, within the length the API accepts', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS).chain((kind) => fc.tuple(fc.constant(kind), keyset(kind), scope)), ([kind, k, s]) => {
        const cursor = encodeCursor(k, s);
        expect(cursor.length).toBeLessThanOrEqual(CURSOR_MAX_LENGTH);
        expect(decodeCursor(cursor, s, kind)).toEqual(k);
      }),
      { numRuns: 300 },
    );
  });

  test('When a cursor comes back with another sort or other filters, then it is a 400 naming cursor', () => {
    fc.assert(
      fc.property(keyset('numeric'), scope, scope, (k, issued, used) => {
        fc.pre(JSON.stringify(issued) !== JSON.stringify(used));
        expect(outcome(encodeCursor(k, issued), used, 'numeric')).toBe('bad_request');
      }),
      { numRuns: 200 },
    );
  });

  test('When any string is sent as a cursor, then it decodes to values of the kinds compared, or is a 400 naming cursor', () => {
    const anyString = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.base64String({ maxLength: 300 }),
      fc.json().map((json) => Buffer.from(json).toString('base64url')),
      // Well-formed payloads whose values are anything JSON can hold: wrong types, bad numbers and dates.
      fc
        .record({ v: fc.oneof(fc.constant(1), fc.jsonValue()), sort: fc.constant('price'), filter: fc.constant(''), after: fc.array(fc.jsonValue(), { maxLength: 5 }) })
        .map((payload) => Buffer.from(JSON.stringify(payload)).toString('base64url')),
    );
    const s: CursorScope = { sort: 'price', filter: {} };
    fc.assert(
      fc.property(anyString, fc.constantFrom(...KINDS), (cursor, kind) => {
        const result = outcome(cursor, s, kind);
        if (result === 'bad_request') return;
        expect([result.source, result.sourceAssetId].every(isStorableText)).toBe(true);
        expect(isKeysetTimestamp(result.observedAt)).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  });

  test('When a timestamp is not a real instant, then it is not a keyset timestamp', () => {
    for (const bad of ['2026-02-30T00:00:00Z', '2026-01-01T24:00:00Z', '0000-01-01T00:00:00Z', '2026-01-01 00:00:00+00', '2026-01-01T00:00:00.1234567Z', '+010000-01-01T00:00:00Z']) {
      expect([bad, isKeysetTimestamp(bad)]).toEqual([bad, false]);
    }
    expect(isKeysetTimestamp('2024-02-29T23:59:59.999999Z')).toBe(true);
  });
});
