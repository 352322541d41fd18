import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Every API schema is built from this `z`, so each one can carry its OpenAPI description (`.openapi()`).
extendZodWithOpenApi(z);

export { z };

/**
 * PostgreSQL cannot store U+0000 in text (nor `\u0000` in jsonb), and jsonb refuses an unpaired surrogate: a
 * string with either would reach the database only to fail there. Every text input is held to this, once, in
 * mountRoute (api/route.ts) and in the cursor (api/cursor.ts).
 */
export const UNSTORABLE_TEXT = 'must not contain a NUL character (U+0000) or an unpaired surrogate';

/** U+0000, or a surrogate code point: in a `u` regex a well-formed pair is one code point, never `Cs`. */
const UNSTORABLE = /[\u0000\p{Cs}]/u;

export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/** Every string in `value` (keys too) that PostgreSQL cannot store, by its path: `q`, `from`, `items.0`. */
export function unstorableText(value: unknown, path: string[] = []): { field: string; reason: string }[] {
  if (typeof value === 'string') return isStorableText(value) ? [] : [{ field: path.join('.') || '(body)', reason: UNSTORABLE_TEXT }];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) =>
    isStorableText(key) ? unstorableText(item, [...path, key]) : [{ field: [...path, JSON.stringify(key).slice(1, -1)].join('.'), reason: UNSTORABLE_TEXT }],
  );
}

/** A string input that PostgreSQL can store. */
export const storableText = () => z.string().refine(isStorableText, UNSTORABLE_TEXT);

/**
 * A whole number in a query string, in decimal digits. Not z.coerce: Number() reads `0x10`, `1e1`, ` 5 ` and the
 * empty string as numbers, which the document's `type: integer` does not allow (found by schemathesis).
 */
export const queryInteger = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value),
    z.number({ error: 'must be a whole number in decimal digits' }).int().min(min).max(max),
  );
