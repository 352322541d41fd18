/**
 * Lenient number parsing for hand-made files: "$1,234.50", "1.7T", "12%", " 3e-9 ", "(12.5)".
 * Returns null for blanks and the usual spellings of "no value"; undefined when the text is not a number at all,
 * so the caller can tell "empty" (allowed) from "garbage" (quarantined).
 */
const SUFFIX: Record<string, number> = { K: 1e3, M: 1e6, B: 1e9, T: 1e12 };
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
  text = text.replace(/^(US)?\$\s*/i, '').replace(/\s*(USD|%)$/i, '').replace(/[,_\s]/g, '');
  let multiplier = 1;
  const suffix = text.slice(-1).toUpperCase();
  if (suffix in SUFFIX && /\d$/.test(text.slice(0, -1))) {
    multiplier = SUFFIX[suffix] as number;
    text = text.slice(0, -1);
  }
  if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined;
  const value = sign * Number(text) * multiplier;
  return Number.isFinite(value) ? value : undefined;
}

/** For upstream JSON: numbers pass, numeric strings are parsed, null/undefined/NaN become null. */
export function numberOrNull(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') return parseLooseNumber(value) ?? null;
  return null;
}
