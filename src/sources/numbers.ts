import { z } from 'zod';

/**
 * An optional number in an upstream's JSON record: a number, or null, absent or "" for "unknown" (some upstreams
 * and proxies send an empty string where they have no value). The contract derived from it allows all four.
 */
export const optionalNumber = () => z.union([z.number(), z.literal('')]).nullish();

/** What optionalNumber() parsed, with every spelling of "unknown" as null: never a guessed 0. */
export function knownOrNull(value: number | '' | null | undefined): number | null {
  return value === '' || value === undefined ? null : value;
}

/**
 * Lenient number parsing for hand-made files: "$1,234.50", "1.7T", "12%", " 3e-9 ", "(12.5)", "1 234 567".
 * Returns null for blanks and the usual spellings of "no value"; undefined when the text is not a number at all,
 * so the caller can tell "empty" (allowed) from "garbage" (quarantined).
 */
// Powers of ten, added to the decimal exponent: 4.35 * 1e12 would be 4349999999999.9995, not 4.35T.
const SUFFIX: Record<string, number> = { K: 3, M: 6, B: 9, T: 12 };
const EMPTY = new Set(['', '-', '—', 'n/a', 'na', 'nan', 'null', 'none', '?']);

export function parseLooseNumber(input: string | null | undefined): number | null | undefined {
  if (input == null) return null;
  let text = input.trim();
  if (EMPTY.has(text.toLowerCase())) return null;
  let sign = 1;
  if (/^\(.*\)$/.test(text)) {
    sign = -1; // accounting negatives
    text = text.slice(1, -1).trim();
  }
  text = text.replace(/^[+]/, '');
  if (text.startsWith('-')) {
    sign = -sign;
    text = text.slice(1).trim();
  }
  text = text
    .replace(/^(US)?\$\s*/i, '')
    .replace(/\s*(USD|%)$/i, '')
    .replace(/\s+([KMBT])$/i, '$1');
  if (/[,_\s]/.test(text)) {
    // Separators only where they group thousands: "1,7" is a decimal comma, and reading it as 17 would be wrong.
    if (!/^\d{1,3}([,_\s]\d{3})+(\.\d*)?(e[+-]?\d+)?[KMBT]?$/i.test(text)) return undefined;
    text = text.replace(/[,_\s]/g, '');
  }
  let shift = 0;
  const suffix = SUFFIX[text.slice(-1).toUpperCase()];
  if (suffix !== undefined && /\d$/.test(text.slice(0, -1))) {
    shift = suffix;
    text = text.slice(0, -1);
  }
  const parts = /^(\d+\.?\d*|\.\d+)(?:e([+-]?\d+))?$/i.exec(text);
  if (!parts) return undefined;
  const value = sign * Number(`${parts[1]}e${Number(parts[2] ?? 0) + shift}`);
  return Number.isFinite(value) ? value : undefined;
}

/** For upstream JSON: numbers pass, numeric strings are parsed, null/undefined/NaN become null. */
export function numberOrNull(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') return parseLooseNumber(value) ?? null;
  return null;
}
