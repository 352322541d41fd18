/**
 * Sørensen–Dice coefficient over the character bigrams of two strings, in [0, 1]: 1 for equal strings, 0 when
 * either is too short to have a bigram. Shared by identity matching (coin names) and rename scoring (field names).
 */
export function bigramDice(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length < 2 || b.length < 2) return 0;
  const grams = new Map<string, number>();
  for (let i = 0; i < a.length - 1; i++) {
    const g = a.slice(i, i + 2);
    grams.set(g, (grams.get(g) ?? 0) + 1);
  }
  let shared = 0;
  for (let i = 0; i < b.length - 1; i++) {
    const g = b.slice(i, i + 2);
    const left = grams.get(g) ?? 0;
    if (left > 0) {
      shared++;
      grams.set(g, left - 1);
    }
  }
  return (2 * shared) / (a.length - 1 + (b.length - 1));
}
