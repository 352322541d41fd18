/**
 * The evidence that two listings of one symbol are one coin, each as a weight of evidence: a log-odds term,
 * positive for "same", negative for "different", 0 for "cannot say" (Fellegi–Sunter record linkage). Terms add;
 * match.ts turns the sum into a confidence. Every number is chosen against the labelled pairs of
 * data/identity/eval-pairs.json (`npm run bench:identity`), with the reason beside it.
 */

import { nameSimilarity } from './keys';

/** A quote a listing was seen with. */
export interface Observation {
  priceUsd: number;
  marketCapUsd: number | null;
  observedAt: Date;
}

/**
 * Prices are compared only when observed this close in time: two sources quote a coin minutes apart, and
 * within 15 minutes even a small cap rarely moves by the 5% the agreement band allows.
 */
export const PRICE_WINDOW_MS = 15 * 60_000;

/**
 * Before any evidence, a shared symbol leans "different" (-1, odds 1:2.7): thousands of coins share tickers,
 * so a symbol alone must never merge, and a weak name with nothing else stays apart.
 */
export const PRIOR = -1;

/**
 * Name: -2.2 for names with nothing in common, +4 for equal keys, linear between (0 at similarity 0.35).
 * Not lower than -2.2: a ticker used as the name ("BNB" / "Binance Coin") or a rebrand shares no letters with
 * the other side's name, and an agreeing rank and price (+2 +3.5) must still be able to carry it past the
 * match threshold. Equal names alone (-1 + 4 = 3, confidence 0.95) are a match.
 */
export function nameWeight(a: string, b: string): number {
  return -2.2 + 6.2 * nameSimilarity(a, b);
}

/**
 * Words that make a listing another token than the coin it is named after: a wrapped, bridged or staked copy
 * (CoinGecko lists "Wrapped SOL" under the symbol SOL, and "Bitcoin (Wormhole)" under BTC). Their price
 * follows the coin's and their name contains it, so without this the copy would pass for the coin.
 */
const VARIANT = /\b(wrapped|bridged|bridge|wormhole|staked|pegged|peg|portal|multichain|allbridge|celer)\b/iu;

/**
 * Variant: -3 when exactly one of the two names marks a wrapped/bridged/staked copy ("Wrapped BNB" against
 * "BNB"), enough to undo the containment and price agreement a copy always has; 0 otherwise ("Wrapped
 * Bitcoin" against "Wrapped BTC": both are the same wrapped token).
 */
export function variantWeight(a: string, b: string): number {
  return VARIANT.test(a.normalize('NFKD')) !== VARIANT.test(b.normalize('NFKD')) ? -3 : 0;
}

/** 1 for the same rank, 0.5 at a distance of max(3, 20% of the rank), towards 0 beyond. */
export function rankProximity(a: number, b: number): number {
  const scale = Math.max(3, 0.2 * Math.min(a, b));
  return 1 / (1 + Math.abs(a - b) / scale);
}

/**
 * Rank: +2 for the same rank, 0 at the documented half distance, -2 far apart. Sources rank by market cap
 * with their own supply figures, so neighbours swap places: rank supports, never decides alone.
 */
export function rankWeight(a: number | null, b: number | null): number {
  return a === null || b === null ? 0 : -2 + 4 * rankProximity(a, b);
}

/**
 * Agreement of two positive amounts, from 1 (within `same`) down through 0 (at `unsure`) to -1 (from
 * `different` on), by their ratio, linear in between.
 */
export function ratioAgreement(a: number, b: number, band: { same: number; unsure: number; different: number }): number {
  const ratio = Math.max(a, b) / Math.min(a, b);
  if (ratio <= band.same) return 1;
  if (ratio <= band.unsure) return 1 - (ratio - band.same) / (band.unsure - band.same);
  if (ratio < band.different) return -(ratio - band.unsure) / (band.different - band.unsure);
  return -1;
}

/**
 * Two sources' prices for one coin minutes apart agree within a few percent (5%); tokens that share a ticker
 * are usually orders of magnitude apart (a few cents against a few dollars), so at twice the price or more the
 * pair is all but certainly different.
 */
export const PRICE_BAND = { same: 1.05, unsure: 1.2, different: 2 };

/** Market caps differ more between sources (each counts circulating supply its own way): looser bands. */
export const MARKET_CAP_BAND = { same: 1.25, unsure: 2, different: 5 };

/**
 * Within 3% of $1 a price says little: every dollar stablecoin agrees with every other. The agreement then
 * counts half, so two unrelated stablecoins under one ticker need a name or a rank to merge.
 */
const PEG = { usd: 1, tolerance: 0.03 };

/**
 * Price: +3.5 when they agree, -4 when they are twice apart or more; 0 when either has no price or they were
 * observed more than PRICE_WINDOW_MS apart. Disagreement weighs more than agreement, since coincidences of
 * price happen (and pegs) but one coin is never at two prices at once (match.ts vetoes a merge at -4).
 */
export const PRICE_WEIGHT = { agree: 3.5, contradict: -4 };

export function priceWeight(x: Observation | undefined, y: Observation | undefined): number {
  const pair = comparable(x, y);
  if (!pair) return 0;
  const [a, b] = pair;
  const agreement = ratioAgreement(a.priceUsd, b.priceUsd, PRICE_BAND);
  if (agreement <= 0) return -PRICE_WEIGHT.contradict * agreement;
  const pegged = [a, b].every((o) => Math.abs(o.priceUsd - PEG.usd) <= PEG.tolerance);
  return PRICE_WEIGHT.agree * agreement * (pegged ? 0.5 : 1);
}

/** Market cap: +1.5 when they agree, -2 five times apart or more; 0 when either lacks one. */
export function marketCapWeight(x: Observation | undefined, y: Observation | undefined): number {
  const [a, b] = comparable(x, y)?.map((o) => o.marketCapUsd) ?? [];
  if (!a || !b || a <= 0 || b <= 0) return 0;
  const agreement = ratioAgreement(a, b, MARKET_CAP_BAND);
  return agreement > 0 ? 1.5 * agreement : 2 * agreement;
}

/** Both observations, when both are there with a price and close enough in time to compare. */
function comparable(a: Observation | undefined, b: Observation | undefined): [Observation, Observation] | undefined {
  if (!a || !b || !(a.priceUsd > 0) || !(b.priceUsd > 0)) return undefined;
  return Math.abs(a.observedAt.getTime() - b.observedAt.getTime()) <= PRICE_WINDOW_MS ? [a, b] : undefined;
}
