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
 * with the same rank and price (-1 - 2.2 + 2 + 3.5 = 2.3); an agreeing price with no rank or market cap counts
 * half, so with a name at similarity 0.5 (-1 + 0.9 + 1.75 = 1.65) it does not.
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
  // Agreeing prices with no rank and no market cap beside them (a CSV row) count half: coins of one price are
  // common enough that price and a weak name alone must not merge.
  const market = (incoming.rank !== null && known.rank !== null) || terms.market_cap !== 0;
  if (terms.price > 0 && !market) terms.price /= 2;
  const rounded = Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, round(v, 3)])) as Omit<Evidence, 'total'>;
  return { ...rounded, total: round(Object.values(terms).reduce((a, b) => a + b, 0), 3) };
}

/** The logistic of the summed log-odds, to three decimals (asset_mappings.confidence is numeric(4, 3)). */
export function confidenceOf(evidence: Evidence): number {
  return round(1 / (1 + Math.exp(-evidence.total)), 3);
}

/**
 * The best pair of listings between the incoming one and the candidate's. `veto` says why the candidate can
 * never be the incoming coin, however well it scores: some listing of it was quoted at twice the incoming price
 * or more at the same time (one coin is never at two prices at once), or the best pair is a coin against its
 * wrapped or bridged copy.
 */
export function score(incoming: Listing, candidate: Candidate): { confidence: number; evidence: Evidence; veto?: string } | undefined {
  let best: { confidence: number; evidence: Evidence } | undefined;
  let twoPrices = false;
  for (const listing of candidate.listings) {
    if (symbolKey(listing.symbol) !== symbolKey(incoming.symbol)) continue;
    const evidence = evidenceFor(incoming, listing);
    twoPrices ||= evidence.price <= PRICE_WEIGHT.contradict;
    if (!best || evidence.total > best.evidence.total) best = { confidence: confidenceOf(evidence), evidence };
  }
  if (!best) return undefined;
  const veto = twoPrices ? 'a listing of it is at twice the price or more' : best.evidence.variant < 0 ? 'one of the two is a wrapped or bridged copy' : undefined;
  return veto ? { ...best, veto } : best;
}

/**
 * The best candidate that may match, if it reaches MATCH_THRESHOLD; otherwise the best of all, vetoed or not,
 * for review when it reaches REVIEW_THRESHOLD. A vetoed candidate never hides a good second one.
 */
export function decide(incoming: Listing, candidates: readonly Candidate[]): Decision {
  type Scored = NonNullable<ReturnType<typeof score>> & { assetId: string };
  let best: Scored | undefined;
  let bestMatchable: Scored | undefined;
  for (const candidate of candidates) {
    if (candidate.listings.some((l) => l.source === incoming.source)) continue; // one asset per id per source
    const scored = score(incoming, candidate);
    if (!scored) continue;
    const entry = { assetId: candidate.assetId, ...scored };
    if (!best || entry.evidence.total > best.evidence.total) best = entry;
    if (!entry.veto && (!bestMatchable || entry.evidence.total > bestMatchable.evidence.total)) bestMatchable = entry;
  }
  if (bestMatchable && bestMatchable.confidence >= MATCH_THRESHOLD) {
    const { assetId, confidence, evidence } = bestMatchable;
    return { kind: 'matched', assetId, confidence, evidence };
  }
  if (best && best.confidence >= REVIEW_THRESHOLD) {
    const { assetId, confidence, evidence, veto } = best;
    const reason = reasonFor(evidence, confidence) + (veto ? `; never merged by itself: ${veto}` : '');
    return { kind: 'new', confidence: 1, review: { assetId, confidence, evidence, reason } };
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
