/**
 * Deciding whether a source's coin is an asset we already know. Pure functions: the repository gathers the
 * candidates, this module weighs the evidence.
 *
 * Symbols collide (CoinGecko's top 100 lists `weth` twice; thousands of coins share tickers), so a symbol only
 * nominates candidates. The name decides, with market-cap rank as supporting evidence, and a source never maps
 * two of its own ids onto one asset.
 */

import { bigramDice } from '../shared/dice';

/** At or above: same asset. */
export const MATCH_THRESHOLD = 0.75;
/** Between this and MATCH_THRESHOLD: kept apart, but listed for a person to review. */
export const REVIEW_THRESHOLD = 0.4;

export interface Listing {
  source: string;
  sourceAssetId: string;
  symbol: string;
  name: string;
  rank: number | null;
}

export interface Candidate {
  assetId: string;
  /** What every source that maps to this asset calls it. */
  listings: Listing[];
}

export type Decision =
  | { kind: 'matched'; assetId: string; confidence: number }
  | { kind: 'new'; confidence: number; review?: { assetId: string; confidence: number; reason: string } };

export function symbolKey(symbol: string): string {
  return symbol.normalize('NFKC').toUpperCase().replace(/[^\p{L}\p{N}]/gu, '');
}

export function nameKey(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '') // strip accents: "Ökocoin" ~ "Okocoin"
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/** Sørensen–Dice over character bigrams of the name keys, 1 for equal keys, 0.85 when one contains the other. */
export function nameSimilarity(a: string, b: string): number {
  const x = nameKey(a);
  const y = nameKey(b);
  if (x === y) return 1;
  if (x.length === 0 || y.length === 0) return 0;
  const contains = Math.min(x.length, y.length) >= 3 && (x.includes(y) || y.includes(x)) ? 0.85 : 0;
  return Math.max(contains, bigramDice(x, y));
}

/** 1 for the same rank, 0.5 at a distance of max(3, 20% of the rank), towards 0 beyond. */
export function rankProximity(a: number, b: number): number {
  const scale = Math.max(3, 0.2 * Math.min(a, b));
  return 1 / (1 + Math.abs(a - b) / scale);
}

export function score(incoming: Listing, candidate: Candidate): number {
  let best = 0;
  for (const listing of candidate.listings) {
    const name = nameSimilarity(incoming.name, listing.name);
    const s =
      incoming.rank !== null && listing.rank !== null
        ? 0.7 * name + 0.3 * rankProximity(incoming.rank, listing.rank)
        : 0.95 * name; // no rank evidence: the name alone, a little less sure
    best = Math.max(best, s);
  }
  return Math.round(best * 1000) / 1000;
}

export function decide(incoming: Listing, candidates: readonly Candidate[]): Decision {
  let best: { assetId: string; confidence: number } | undefined;
  for (const candidate of candidates) {
    if (candidate.listings.some((l) => l.source === incoming.source)) continue; // one asset per id per source
    if (!candidate.listings.some((l) => symbolKey(l.symbol) === symbolKey(incoming.symbol))) continue;
    const confidence = score(incoming, candidate);
    if (!best || confidence > best.confidence) best = { assetId: candidate.assetId, confidence };
  }
  if (best && best.confidence >= MATCH_THRESHOLD) return { kind: 'matched', ...best };
  if (best && best.confidence >= REVIEW_THRESHOLD) {
    return {
      kind: 'new',
      confidence: 1,
      review: { ...best, reason: `same symbol, weak match (${best.confidence} < ${MATCH_THRESHOLD})` },
    };
  }
  return { kind: 'new', confidence: 1 };
}
