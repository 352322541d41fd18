/**
 * Deciding whether a source's coin is an asset we already know. Pure functions: the repository gathers the
 * candidates and their quotes, this module weighs the evidence (evidence.ts).
 *
 * Symbols collide (CoinGecko's top 100 lists `weth` twice; thousands of coins share tickers), so a symbol only
 * nominates candidates. Name, rank, price and market cap decide together, and a source never maps two of its
 * own ids onto one asset.
 */

import { marketCapWeight, nameWeight, PRICE_WEIGHT, PRIOR, priceWeight, rankWeight, variantWeight, type Observation } from './evidence';
import { symbolKey } from './keys';

/**
 * At or above: same asset. 0.85 is log-odds 1.73: equal names alone (3.0) pass, and so do a ticker-as-name
 * with the same rank and price (-1 - 2.2 + 2 + 3.5 = 2.3); an agreeing price with nothing else (at best
 * -1 - 0.96 + 3.5 = 1.54 for names at similarity 0.2) does not.
 */
export const MATCH_THRESHOLD = 0.85;
/**
 * Between this and MATCH_THRESHOLD: kept apart, but listed for a person to review. 0.05 is log-odds -2.94:
 * below it at least two terms say "different" (names and ranks apart, or prices twice apart), so unrelated
 * same-ticker pairs stay out of the review list; a ticker-as-name pair at neighbouring ranks with no price
 * to compare (-1 - 2.2 + 0.4 = -2.8) stays in it.
 */
export const REVIEW_THRESHOLD = 0.05;

export interface Listing {
  source: string;
  sourceAssetId: string;
  symbol: string;
  name: string;
  rank: number | null;
  /** The quote it was seen with: for a candidate, the one nearest in time to the incoming listing's. */
  observation?: Observation | undefined;
}

export interface Candidate {
  assetId: string;
  /** What every source that maps to this asset calls it. */
  listings: Listing[];
}

/** Each term's weight of evidence (log-odds) and their sum, for the best-scoring pair of listings. */
export interface Evidence {
  prior: number;
  name: number;
  variant: number;
  rank: number;
  price: number;
  market_cap: number;
  total: number;
}

export type Review = { assetId: string; confidence: number; reason: string; evidence: Evidence };

export type Decision =
  | { kind: 'matched'; assetId: string; confidence: number; evidence: Evidence }
  | { kind: 'new'; confidence: number; review?: Review };

export function evidenceFor(incoming: Listing, known: Listing): Evidence {
  const terms = {
    prior: PRIOR,
    name: nameWeight(incoming.name, known.name),
    variant: variantWeight(incoming.name, known.name),
    rank: rankWeight(incoming.rank, known.rank),
    price: priceWeight(incoming.observation, known.observation),
    market_cap: marketCapWeight(incoming.observation, known.observation),
  };
  const rounded = Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, round(v, 3)])) as Omit<Evidence, 'total'>;
  return { ...rounded, total: round(Object.values(terms).reduce((a, b) => a + b, 0), 3) };
}

/** The logistic of the summed log-odds, to three decimals (asset_mappings.confidence is numeric(4, 3)). */
export function confidenceOf(evidence: Evidence): number {
  return round(1 / (1 + Math.exp(-evidence.total)), 3);
}

/**
 * The best pair of listings between the incoming one and the candidate's. `vetoed`: some listing of the
 * candidate was quoted at twice the incoming price or more, at the same time: one coin is never at two prices
 * at once, however well another of its listings matches by name.
 */
export function score(incoming: Listing, candidate: Candidate): { confidence: number; evidence: Evidence; vetoed: boolean } | undefined {
  let best: { confidence: number; evidence: Evidence } | undefined;
  let vetoed = false;
  for (const listing of candidate.listings) {
    if (symbolKey(listing.symbol) !== symbolKey(incoming.symbol)) continue;
    const evidence = evidenceFor(incoming, listing);
    vetoed ||= evidence.price <= PRICE_WEIGHT.contradict;
    if (!best || evidence.total > best.evidence.total) best = { confidence: confidenceOf(evidence), evidence };
  }
  return best && { ...best, vetoed };
}

export function decide(incoming: Listing, candidates: readonly Candidate[]): Decision {
  let best: { assetId: string; confidence: number; evidence: Evidence; vetoed: boolean } | undefined;
  for (const candidate of candidates) {
    if (candidate.listings.some((l) => l.source === incoming.source)) continue; // one asset per id per source
    const scored = score(incoming, candidate);
    if (scored && (!best || scored.evidence.total > best.evidence.total)) best = { assetId: candidate.assetId, ...scored };
  }
  if (!best) return { kind: 'new', confidence: 1 };
  const { vetoed, ...found } = best;
  if (found.confidence >= MATCH_THRESHOLD && !vetoed) return { kind: 'matched', ...found };
  if (found.confidence >= REVIEW_THRESHOLD) {
    const reason = reasonFor(found.evidence, found.confidence) + (vetoed ? '; another of its listings is at twice the price or more' : '');
    return { kind: 'new', confidence: 1, review: { ...found, reason } };
  }
  return { kind: 'new', confidence: 1 };
}

/** `same symbol, not sure (0.62 < 0.85): name -2.2, variant 0, rank +2, price 0, market cap 0` (0: nothing to compare) */
function reasonFor(e: Evidence, confidence: number): string {
  const signed = (v: number) => (v > 0 ? `+${v}` : String(v));
  const terms = `name ${signed(e.name)}, variant ${signed(e.variant)}, rank ${signed(e.rank)}, price ${signed(e.price)}, market cap ${signed(e.market_cap)}`;
  return `same symbol, not sure (${confidence} < ${MATCH_THRESHOLD}): ${terms}`;
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
