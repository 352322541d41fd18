import { bigramDice } from '../shared/dice';

/**
 * How alike two field names are, in [0, 1], as a rename would leave them. Names are compared as words:
 * `currentPrice`, `current_price`, `CURRENT-PRICE` are the same words (1); a prefix or suffix added or dropped
 * (`price` → `price_usd`, `usd_price`) keeps every word of the shorter name (0.9); otherwise the letters are
 * compared (Sørensen–Dice over letter pairs), so `mktcap` is still near `market_cap` and `volume` far from it.
 * Fields under different parents (`quotes.USD.price` vs `data.price`) score lower: a rename rarely moves a field.
 */
export function nameSimilarity(a: string, b: string): number {
  const [parentA, leafA] = splitPath(a);
  const [parentB, leafB] = splitPath(b);
  const leaf = leafSimilarity(words(leafA), words(leafB));
  return parentA.toLowerCase() === parentB.toLowerCase() ? leaf : leaf * 0.8;
}

/** Same words: 1. Every word of the shorter name kept: 0.9. Otherwise letter-pair similarity, at most 0.85. */
const SAME_WORDS = 1;
const WORDS_KEPT = 0.9;
const LETTERS_AT_MOST = 0.85;

function leafSimilarity(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  if (a.join(' ') === b.join(' ')) return SAME_WORDS;
  const [shorter, longer] = a.length <= b.length ? [a, b] : [b, a];
  const rest = new Set(longer);
  if (shorter.every((w) => rest.has(w))) return WORDS_KEPT;
  return Math.min(LETTERS_AT_MOST, bigramDice(a.join(''), b.join('')));
}

function splitPath(path: string): [parent: string, leaf: string] {
  const dot = path.lastIndexOf('.');
  return dot < 0 ? ['', path] : [path.slice(0, dot), path.slice(dot + 1)];
}

/** `marketCapUSD` → market, cap, usd; `price_change_24h` → price, change, 24h. */
export function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}
