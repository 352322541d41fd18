/**
 * How listings are keyed and their names compared. Symbols only nominate candidates, so their key is loose
 * (case, width, punctuation and accents fall away); names are evidence, compared on a key just as loose.
 */

import { bigramDice } from '../shared/dice';

/**
 * `ＢＴＣ`, ` B.T.C ` and `btc` are one key; so are `ÖKO` and `OKO`: one source spells a symbol with its
 * diacritic, another without (found on real listings: a CSV row missed the asset its API listings share).
 * Letters of every script stay.
 */
export function symbolKey(symbol: string): string {
  return foldMarks(symbol.normalize('NFKC')).toUpperCase().replace(/[^\p{L}\p{N}]/gu, '');
}

export function nameKey(name: string): string {
  return foldMarks(name)
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** Decomposes, drops the combining marks, composes again: "Ökocoin" → "Okocoin", "比特" stays. */
function foldMarks(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').normalize('NFC');
}

/** Sørensen–Dice over character bigrams of the name keys, 1 for equal keys, 0.85 when one contains the other. */
export function nameSimilarity(a: string, b: string): number {
  const x = nameKey(a);
  const y = nameKey(b);
  if (x === y) return x.length > 0 ? 1 : 0;
  if (x.length === 0 || y.length === 0) return 0;
  const contains = Math.min(x.length, y.length) >= 3 && (x.includes(y) || y.includes(x)) ? 0.85 : 0;
  return Math.max(contains, bigramDice(x, y));
}
