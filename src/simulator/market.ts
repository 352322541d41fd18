/**
 * A pure, deterministic crypto market behind the simulator server.
 *
 * Every value is a function of (seed, coin index, tick): nothing is stored per coin, so a market of 100k+ coins
 * costs a few typed arrays (the per-tick ranking) and each response only builds the coins it returns. No
 * Math.random and no wall clock: two markets with the same seed and tick answer the same bytes.
 */

/**
 * Jest runs tests in a vm context where every global lookup (Math, Number, ...) goes through a slow interceptor;
 * the hash below does millions of them for a big market, so the hot built-ins are bound once here.
 */
const { abs, exp, floor, imul, log10, max, min, round } = Math;
const isFiniteNumber = Number.isFinite;

/** The virtual clock starts here; tick n is BASE_TIME_MS + n minutes. */
export const BASE_TIME_MS = Date.UTC(2026, 0, 1);
export const TICK_MS = 60_000;
export const DEFAULT_COINS = 3000;
export const DEFAULT_SEED = 42;

const TICKS_PER_DAY = (24 * 3_600_000) / TICK_MS;

export interface MarketOptions {
  coins?: number;
  seed?: number;
}

/** Who a coin is, as each source spells it. `symbol` is the canonical upper-case form. */
export interface CoinIdentity {
  geckoId: string;
  paprikaId: string;
  symbol: string;
  geckoName: string;
  paprikaName: string;
}

/** A coin's fixed economics and listing; tick-dependent values are derived from these in quoteAt(). */
export interface CoinEconomics {
  basePrice: number;
  circulatingSupply: number;
  totalSupply: number | null;
  maxSupply: number | null;
  /** Prices wander within basePrice × (1 ± volatility). */
  volatility: number;
  /** 24h volume as a share of the base market cap. */
  volumeRatio: number;
  /** Chance that the coin changes on a given tick; unchanged coins keep their last_updated. */
  changeProbability: number;
  athPrice: number;
  athDateMs: number;
  atlPrice: number;
  atlDateMs: number;
  firstDataAtMs: number;
  beta: number;
  onGecko: boolean;
  onPaprika: boolean;
  nullMarketCap: boolean;
  nullVolume: boolean;
  nullChange24h: boolean;
}

export interface Coin extends CoinIdentity, CoinEconomics {
  index: number;
}

/** A coin's market at one tick, before any source-specific rounding or shape. */
export interface Quote {
  tick: number;
  lastChangeTick: number;
  lastUpdatedMs: number;
  price: number;
  price24hAgo: number;
  /** null when the coin is one of those whose market cap is unknown. */
  marketCap: number | null;
  marketCap24hAgo: number | null;
  volume: number | null;
  volume24hAgo: number | null;
  high24h: number;
  low24h: number;
}

/** One item of CoinGecko's GET /api/v3/coins/markets, field for field and in CoinGecko's order. */
export interface GeckoMarket {
  id: string;
  symbol: string;
  name: string;
  image: string;
  current_price: number;
  market_cap: number | null;
  market_cap_rank: number | null;
  fully_diluted_valuation: number | null;
  total_volume: number | null;
  high_24h: number;
  low_24h: number;
  price_change_24h: number | null;
  price_change_percentage_24h: number | null;
  market_cap_change_24h: number | null;
  market_cap_change_percentage_24h: number | null;
  circulating_supply: number;
  total_supply: number | null;
  max_supply: number | null;
  ath: number;
  ath_change_percentage: number;
  ath_date: string;
  atl: number;
  atl_change_percentage: number;
  atl_date: string;
  roi: null;
  last_updated: string;
}

export interface PaprikaUsdQuote {
  price: number;
  volume_24h: number;
  volume_24h_change_24h: number;
  market_cap: number;
  market_cap_change_24h: number;
  percent_change_15m: number;
  percent_change_30m: number;
  percent_change_1h: number;
  percent_change_6h: number;
  percent_change_12h: number;
  percent_change_24h: number;
  percent_change_7d: number;
  percent_change_30d: number;
  percent_change_1y: number;
  ath_price: number;
  ath_date: string;
  percent_from_price_ath: number;
}

/** One item of CoinPaprika's GET /v1/tickers. Like real 2024+ payloads it has no circulating_supply. */
export interface PaprikaTicker {
  id: string;
  name: string;
  symbol: string;
  /** 0 means unranked (no market cap), as on CoinPaprika. */
  rank: number;
  total_supply: number;
  /** 0 means no cap, as on CoinPaprika. */
  max_supply: number;
  beta_value: number;
  first_data_at: string;
  last_updated: string;
  quotes: { USD: PaprikaUsdQuote };
}

/** The market frozen at one tick, so a response that streams for a while stays one consistent snapshot. */
export interface MarketView {
  readonly tick: number;
  readonly nowMs: number;
  readonly geckoCount: number;
  readonly paprikaCount: number;
  /** 1-based page of the market-cap-desc listing; past the end it is empty. */
  geckoPage(page: number, perPage: number): GeckoMarket[];
  /** Every CoinPaprika ticker in rank order, built one at a time. */
  paprikaTickers(): Generator<PaprikaTicker>;
}

export interface Market {
  readonly seed: number;
  readonly coinCount: number;
  readonly currentTick: number;
  /** The virtual clock: BASE_TIME_MS + currentTick × TICK_MS. */
  now(): Date;
  /** Advances the clock by n ticks (default 1) and returns the new tick. */
  tick(n?: number): number;
  coin(index: number): Coin;
  quote(index: number, tick?: number): Quote;
  view(): MarketView;
}

export function createMarket(options: MarketOptions = {}): Market {
  const coinCount = options.coins ?? DEFAULT_COINS;
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(coinCount) || coinCount < 0 || coinCount > 2 ** 31 - 1) {
    throw new RangeError(`coins must be an integer between 0 and 2^31-1, got ${coinCount}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);

  const model = new Model(seed >>> 0, coinCount);
  let currentTick = 0;
  let cached: { tick: number; view: MarketView } | undefined;

  return {
    seed,
    coinCount,
    get currentTick() {
      return currentTick;
    },
    now: () => new Date(clockMs(currentTick)),
    tick(n = 1) {
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`tick count must be a non-negative integer, got ${n}`);
      currentTick += n;
      return currentTick;
    },
    coin: (index) => model.coin(checkIndex(index, coinCount)),
    quote: (index, tick = currentTick) => model.quoteAt(checkIndex(index, coinCount), model.economics(index), tick),
    view() {
      // Ranking costs one pass over every coin, so it is done once per tick, not once per request.
      if (cached?.tick !== currentTick) cached = { tick: currentTick, view: createView(model, currentTick) };
      return cached.view;
    },
  };
}

function checkIndex(index: number, coinCount: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= coinCount) {
    throw new RangeError(`coin index ${index} is outside 0..${coinCount - 1}`);
  }
  return index;
}

function clockMs(tick: number): number {
  return BASE_TIME_MS + tick * TICK_MS;
}

// ---------------------------------------------------------------------------------------------------------------
// Randomness: a stateless hash for random access by (seed, index, stream, tick), and mulberry32 for the many
// draws that make up one coin.

/** Independent hash streams, so adding a draw to one property never shifts another. */
const Stream = {
  identity: 1,
  economics: 2,
  change: 3,
  price: 4,
  volume: 5,
  high: 6,
  low: 7,
} as const;
type Stream = (typeof Stream)[keyof typeof Stream];

/** lowbias32: a bijection on uint32 with good avalanche. Being a bijection is what makes generated ids unique. */
function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

function hash(seed: number, index: number, stream: Stream, k = 0): number {
  let h = mix32(seed ^ 0x9e3779b9);
  h = mix32(h ^ index);
  h = mix32(h ^ imul(stream, 0x85ebca6b));
  return mix32(h + (k | 0));
}

/** Uniform in [0, 1). */
function unit(seed: number, index: number, stream: Stream, k = 0): number {
  return hash(seed, index, stream, k) / 4294967296;
}

export function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function between(rng: () => number, min: number, max: number): number {
  return min + (max - min) * rng();
}

function pick<T>(rng: () => number, items: readonly T[]): T {
  const item = items[floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick() from an empty list');
  return item;
}

// ---------------------------------------------------------------------------------------------------------------
// The coins: a few hand-written ones (real names, plus edge cases) at the start, then generated ones.

interface FixedCoin extends CoinIdentity, CoinEconomics {}

const day = (iso: string): number => Date.parse(iso);

function fixed(
  identity: Omit<CoinIdentity, 'paprikaId' | 'paprikaName'> & { paprikaName?: string },
  economics: Partial<CoinEconomics> & Pick<CoinEconomics, 'basePrice' | 'circulatingSupply'>,
): FixedCoin {
  return {
    ...identity,
    paprikaId: `${identity.symbol.toLowerCase()}-${identity.geckoId}`,
    paprikaName: identity.paprikaName ?? identity.geckoName,
    totalSupply: economics.circulatingSupply,
    maxSupply: null,
    volatility: 0.03,
    volumeRatio: 0.04,
    changeProbability: 0.9,
    athPrice: economics.basePrice * 1.6,
    athDateMs: day('2025-10-06T00:00:00Z'),
    atlPrice: economics.basePrice * 0.05,
    atlDateMs: day('2018-12-15T00:00:00Z'),
    firstDataAtMs: day('2017-01-01T00:00:00Z'),
    beta: 1,
    onGecko: true,
    onPaprika: true,
    nullMarketCap: false,
    nullVolume: false,
    nullChange24h: false,
    ...economics,
  };
}

const STABLE = { volatility: 0.001, athPrice: 1.32, atlPrice: 0.57, beta: 0.01 } as const;

const FIXED_COINS: readonly FixedCoin[] = [
  fixed(
    { geckoId: 'bitcoin', symbol: 'BTC', geckoName: 'Bitcoin' },
    {
      basePrice: 94_000,
      circulatingSupply: 19_960_000,
      totalSupply: 19_960_000,
      maxSupply: 21_000_000,
      athPrice: 126_080,
      athDateMs: day('2025-10-06T18:57:42Z'),
      atlPrice: 67.81,
      atlDateMs: day('2013-07-06T00:00:00Z'),
      firstDataAtMs: day('2010-07-17T00:00:00Z'),
    },
  ),
  fixed(
    { geckoId: 'ethereum', symbol: 'ETH', geckoName: 'Ethereum' },
    { basePrice: 3300, circulatingSupply: 120_700_000, athPrice: 4946, firstDataAtMs: day('2015-08-07T00:00:00Z') },
  ),
  fixed({ geckoId: 'tether', symbol: 'USDT', geckoName: 'Tether' }, { basePrice: 1, circulatingSupply: 186e9, ...STABLE }),
  fixed(
    { geckoId: 'binancecoin', symbol: 'BNB', geckoName: 'BNB', paprikaName: 'Binance Coin' },
    { basePrice: 880, circulatingSupply: 137_700_000, maxSupply: 200_000_000 },
  ),
  fixed({ geckoId: 'solana', symbol: 'SOL', geckoName: 'Solana' }, { basePrice: 190, circulatingSupply: 560_000_000 }),
  fixed(
    { geckoId: 'usd-coin', symbol: 'USDC', geckoName: 'USDC', paprikaName: 'USD Coin' },
    { basePrice: 1, circulatingSupply: 75e9, ...STABLE },
  ),
  fixed(
    { geckoId: 'ripple', symbol: 'XRP', geckoName: 'XRP' },
    { basePrice: 2.2, circulatingSupply: 60e9, totalSupply: 99_986_000_000, maxSupply: 100e9 },
  ),
  // Two WETHs on CoinGecko: a symbol is not an identity.
  fixed({ geckoId: 'weth', symbol: 'WETH', geckoName: 'WETH' }, { basePrice: 3300, circulatingSupply: 2_600_000 }),
  fixed(
    { geckoId: 'l2-standard-bridged-weth-base', symbol: 'WETH', geckoName: 'Wrapped Ether (Base)' },
    { basePrice: 3300, circulatingSupply: 450_000, onPaprika: false },
  ),
  // Extreme but valid numbers.
  fixed(
    { geckoId: 'femto-dust', symbol: 'FEMTO', geckoName: 'Femto Dust' },
    { basePrice: 1e-12, circulatingSupply: 4.2e17, volatility: 0.2 },
  ),
  fixed(
    { geckoId: 'quadrillion-inu', symbol: 'QINU', geckoName: 'Quadrillion Inu' },
    { basePrice: 0.0025, circulatingSupply: 4e17, totalSupply: 1e18, maxSupply: 1e18, volumeRatio: 1e-6 },
  ),
  // Everything CoinGecko may leave out.
  fixed(
    { geckoId: 'ghost-protocol', symbol: 'GHOST', geckoName: 'Ghost Protocol' },
    { basePrice: 0.42, circulatingSupply: 1e8, nullMarketCap: true, nullVolume: true, nullChange24h: true },
  ),
];

const SYLLABLES = [
  'ba', 'ko', 'ri', 'zen', 'tal', 'mo', 'vex', 'lu', 'nar', 'qui', 'sol', 'dex', 'fi', 'ra', 'tor',
  'ly', 'xo', 'pe', 'gan', 'chi', 'mi', 'tro', 'ven', 'sa', 'plu', 'do', 'ka', 'zu', 'lin', 'ber',
] as const;
const SUFFIXES = ['Protocol', 'Finance', 'Network', 'Chain', 'Swap', 'DAO', 'AI', 'Inu', 'Labs', 'Cash', 'Verse'] as const;
/** Non-ASCII names, including CJK, Cyrillic, Hangul and an astral-plane emoji, to catch encoding bugs. */
const UNICODE_NAMES = [
  'Ökocoin', '比特币现金', 'Ñandú', 'Café Crème', 'Łódź Token',
  'Ψ Protocol', 'Пчёлка', '도지코인', 'Rocket 🚀', 'Ūnïcørn',
] as const;
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** When generated coins were first listed. */
const FIRST_LISTING_MS = day('2014-01-01T00:00:00Z');
const LAST_LISTING_MS = day('2025-06-01T00:00:00Z');
const GECKO_COVERAGE = 0.9;
const PAPRIKA_COVERAGE = 0.9;
const SYMBOL_REUSE = 0.02;
const PAPRIKA_RENAME = 0.03;
const UNICODE_SHARE = 0.005;

class Model {
  private readonly seedMix: number;

  constructor(
    readonly seed: number,
    readonly coinCount: number,
  ) {
    this.seedMix = mix32(seed ^ 0x5bd1e995);
  }

  coin(index: number): Coin {
    return { index, ...this.identity(index), ...this.economics(index) };
  }

  identity(index: number): CoinIdentity {
    const known = FIXED_COINS[index];
    if (known) {
      const { geckoId, paprikaId, symbol, geckoName, paprikaName } = known;
      return { geckoId, paprikaId, symbol, geckoName, paprikaName };
    }
    const rng = mulberry32(hash(this.seed, index, Stream.identity));
    const geckoName = generatedName(rng);
    const symbol = this.generatedSymbol(index, rng);
    const paprikaName = rng() < PAPRIKA_RENAME ? variantName(geckoName, rng) : geckoName;
    const geckoId = `coin-${mix32(index ^ this.seedMix).toString(36).padStart(7, '0')}`;
    return { geckoId, paprikaId: `${symbol.toLowerCase()}-${geckoId}`, symbol, geckoName, paprikaName };
  }

  /** Some coins deliberately reuse an earlier coin's symbol; the recursion only ever goes to lower indices. */
  private generatedSymbol(index: number, rng: () => number): string {
    if (rng() < SYMBOL_REUSE) return this.identity(floor(rng() * index)).symbol;
    const length = 3 + floor(rng() * 3);
    let symbol = '';
    for (let i = 0; i < length; i++) symbol += LETTERS.charAt(floor(rng() * LETTERS.length));
    return symbol;
  }

  economics(index: number): CoinEconomics {
    const known = FIXED_COINS[index];
    if (known) return known;
    const rng = mulberry32(hash(this.seed, index, Stream.economics));
    // Caps fall off with the index like a real listing, with enough noise that ranking must really sort.
    const baseCap = 2e10 * (index + 1) ** -1.1 * exp(between(rng, -1.5, 1.5));
    const basePrice = 10 ** between(rng, -8, 3.7);
    const circulatingSupply = baseCap / basePrice;
    const totalSupply = rng() < 0.05 ? null : circulatingSupply * between(rng, 1, 3);
    const maxSupply = totalSupply !== null && rng() < 0.4 ? totalSupply * between(rng, 1, 2) : null;
    const firstDataAtMs = floor(between(rng, FIRST_LISTING_MS, LAST_LISTING_MS));
    const onGecko = rng() < GECKO_COVERAGE;
    const onPaprika = rng() < PAPRIKA_COVERAGE;
    return {
      basePrice,
      circulatingSupply,
      totalSupply,
      maxSupply,
      volatility: between(rng, 0.02, 0.15),
      volumeRatio: between(rng, 0.005, 0.3),
      changeProbability: 0.5,
      athPrice: basePrice * between(rng, 1.5, 20),
      athDateMs: floor(between(rng, firstDataAtMs, BASE_TIME_MS)),
      atlPrice: basePrice * between(rng, 0.001, 0.5),
      atlDateMs: floor(between(rng, firstDataAtMs, BASE_TIME_MS)),
      firstDataAtMs,
      beta: between(rng, 0.3, 1.8),
      // Every coin is listed somewhere, so the union of both sources is the whole market.
      onGecko: onGecko || !onPaprika,
      onPaprika,
      nullMarketCap: rng() < 0.003,
      nullVolume: rng() < 0.003,
      nullChange24h: rng() < 0.005,
    };
  }

  /** A coin changes on tick k with its changeProbability; tick 0 is the initial listing, a change by definition. */
  private changedAt(index: number, changeProbability: number, k: number): boolean {
    return k === 0 || unit(this.seed, index, Stream.change, k) < changeProbability;
  }

  lastChangeTick(index: number, changeProbability: number, tick: number): number {
    // Ticks before 0 (the "24h ago" of an early tick) are a hash too; the loop ends quickly as changes are
    // frequent, and the bound keeps it finite even for a pathological hash run.
    let k = tick;
    for (let steps = 0; steps < 1000 && !this.changedAt(index, changeProbability, k); steps++) k--;
    return k;
  }

  /** Not a random walk: a price level at a change tick, so any tick is O(1) without replaying history. */
  priceAtChange(index: number, economics: CoinEconomics, k: number): number {
    return economics.basePrice * (1 + economics.volatility * (2 * unit(this.seed, index, Stream.price, k) - 1));
  }

  priceAt(index: number, economics: CoinEconomics, tick: number): number {
    return this.priceAtChange(index, economics, this.lastChangeTick(index, economics.changeProbability, tick));
  }

  marketCapAt(index: number, economics: CoinEconomics, tick: number): number | null {
    if (economics.nullMarketCap) return null;
    return round(sig(this.priceAt(index, economics, tick)) * economics.circulatingSupply);
  }

  private volumeAtChange(index: number, economics: CoinEconomics, k: number): number | null {
    if (economics.nullVolume) return null;
    const baseVolume = economics.basePrice * economics.circulatingSupply * economics.volumeRatio;
    return round(baseVolume * (0.6 + 0.8 * unit(this.seed, index, Stream.volume, k)));
  }

  quoteAt(index: number, economics: CoinEconomics, tick: number): Quote {
    const changed = this.lastChangeTick(index, economics.changeProbability, tick);
    const before = this.lastChangeTick(index, economics.changeProbability, tick - TICKS_PER_DAY);
    const price = sig(this.priceAtChange(index, economics, changed));
    const price24hAgo = sig(this.priceAtChange(index, economics, before));
    const capOf = (p: number): number | null =>
      economics.nullMarketCap ? null : round(p * economics.circulatingSupply);
    const swing = economics.volatility * 0.25;
    return {
      tick,
      lastChangeTick: changed,
      lastUpdatedMs: clockMs(max(0, changed)),
      price,
      price24hAgo,
      marketCap: capOf(price),
      marketCap24hAgo: capOf(price24hAgo),
      volume: this.volumeAtChange(index, economics, changed),
      volume24hAgo: this.volumeAtChange(index, economics, before),
      high24h: sig(max(price, price24hAgo) * (1 + swing * unit(this.seed, index, Stream.high, changed))),
      low24h: sig(min(price, price24hAgo) * (1 - swing * unit(this.seed, index, Stream.low, changed))),
    };
  }
}

function generatedName(rng: () => number): string {
  if (rng() < UNICODE_SHARE) return pick(rng, UNICODE_NAMES);
  const syllables = 2 + floor(rng() * 2);
  let word = '';
  for (let i = 0; i < syllables; i++) word += pick(rng, SYLLABLES);
  const name = word.charAt(0).toUpperCase() + word.slice(1);
  return rng() < 0.4 ? `${name} ${pick(rng, SUFFIXES)}` : name;
}

/** How CoinPaprika sometimes spells the same coin: a " Token" suffix or different casing. */
function variantName(name: string, rng: () => number): string {
  const recased = rng() < 0.5 ? name.toUpperCase() : name.toLowerCase();
  return rng() < 0.5 || recased === name ? `${name} Token` : recased;
}

/**
 * Prices carry 8 significant digits, like the sources; rounding here keeps every derived value consistent.
 * Arithmetic rather than toPrecision() because this runs a dozen times per coin per response: dividing by an
 * exact power of ten (up to 1e22) yields the double that prints as the short decimal.
 */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i);

function sig(value: number, digits = 8): number {
  if (value === 0 || !isFiniteNumber(value)) return value;
  const shift = digits - 1 - floor(log10(abs(value)));
  if (shift > 22) return Number(value.toPrecision(digits));
  if (shift >= 0) {
    const factor = POWERS_OF_TEN[shift] ?? 10 ** shift;
    return round(value * factor) / factor;
  }
  const scale = POWERS_OF_TEN[-shift] ?? 10 ** -shift;
  return round(value / scale) * scale;
}

function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return round(value * factor) / factor;
}

function percentChange(now: number, before: number, decimals: number): number {
  return before === 0 ? 0 : roundTo((now / before - 1) * 100, decimals);
}

// ---------------------------------------------------------------------------------------------------------------
// One tick's ranking and the two sources' shapes.

interface Ranking {
  /** Coin indices in listing order: market cap desc, unknown caps last, ties by index. */
  geckoOrder: Int32Array;
  paprikaOrder: Int32Array;
  /** 1-based rank by coin index; 0 = unranked (not listed, or no market cap). */
  geckoRank: Int32Array;
  paprikaRank: Int32Array;
}

function rankAt(model: Model, tick: number): Ranking {
  const caps = new Float64Array(model.coinCount);
  const onGecko: number[] = [];
  const onPaprika: number[] = [];
  for (let i = 0; i < model.coinCount; i++) {
    const economics = model.economics(i);
    caps[i] = model.marketCapAt(i, economics, tick) ?? -1;
    if (economics.onGecko) onGecko.push(i);
    if (economics.onPaprika) onPaprika.push(i);
  }
  const byCapDesc = (a: number, b: number): number => (caps[b] ?? -1) - (caps[a] ?? -1) || a - b;
  const geckoOrder = Int32Array.from(onGecko).sort(byCapDesc);
  const paprikaOrder = Int32Array.from(onPaprika).sort(byCapDesc);
  return {
    geckoOrder,
    paprikaOrder,
    geckoRank: ranksOf(geckoOrder, caps),
    paprikaRank: ranksOf(paprikaOrder, caps),
  };
}

function ranksOf(order: Int32Array, caps: Float64Array): Int32Array {
  const ranks = new Int32Array(caps.length);
  order.forEach((coin, position) => {
    if ((caps[coin] ?? -1) >= 0) ranks[coin] = position + 1;
  });
  return ranks;
}

function createView(model: Model, tick: number): MarketView {
  const ranking = rankAt(model, tick);
  return {
    tick,
    nowMs: clockMs(tick),
    geckoCount: ranking.geckoOrder.length,
    paprikaCount: ranking.paprikaOrder.length,
    geckoPage(page, perPage) {
      const start = (page - 1) * perPage;
      const indices = ranking.geckoOrder.subarray(min(start, ranking.geckoOrder.length), start + perPage);
      return Array.from(indices, (i) => geckoMarket(model, i, tick, ranking.geckoRank[i] ?? 0));
    },
    *paprikaTickers() {
      for (const i of ranking.paprikaOrder) yield paprikaTicker(model, i, tick, ranking.paprikaRank[i] ?? 0);
    },
  };
}

/** CoinGecko's timestamps: ISO 8601 with milliseconds. */
function isoMs(ms: number): string {
  return `${isoSeconds(ms).slice(0, -1)}.${pad(((ms % 1000) + 1000) % 1000, 3)}Z`;
}

/**
 * CoinPaprika's timestamps: ISO 8601 without milliseconds. Hand-formatted (days-to-civil, after H. Hinnant)
 * because Date#toISOString dominated the cost of a 100k-coin response.
 */
function isoSeconds(ms: number): string {
  const seconds = floor(ms / 1000);
  const days = floor(seconds / 86_400);
  const secondOfDay = seconds - days * 86_400;
  const shifted = days + 719_468;
  const era = floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = floor((dayOfEra - floor(dayOfEra / 1460) + floor(dayOfEra / 36_524) - floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + floor(yearOfEra / 4) - floor(yearOfEra / 100));
  const monthIndex = floor((5 * dayOfYear + 2) / 153);
  const dayOfMonth = dayOfYear - floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const time = `${pad(floor(secondOfDay / 3600), 2)}:${pad(floor(secondOfDay / 60) % 60, 2)}:${pad(secondOfDay % 60, 2)}`;
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(dayOfMonth, 2)}T${time}Z`;
}

function pad(value: number, width: number): string {
  const text = `${value}`;
  return text.length >= width ? text : '0'.repeat(width - text.length) + text;
}

function geckoMarket(model: Model, index: number, tick: number, rank: number): GeckoMarket {
  const id = model.identity(index);
  const e = model.economics(index);
  const q = model.quoteAt(index, e, tick);
  const supplyForFdv = e.maxSupply ?? e.totalSupply ?? e.circulatingSupply;
  const capKnown = q.marketCap !== null && q.marketCap24hAgo !== null;
  return {
    id: id.geckoId,
    symbol: id.symbol.toLowerCase(),
    name: id.geckoName,
    image: `https://coin-images.coingecko.com/coins/images/${index + 1}/large/${id.geckoId}.png`,
    current_price: q.price,
    market_cap: q.marketCap,
    market_cap_rank: rank > 0 ? rank : null,
    fully_diluted_valuation: capKnown ? round(q.price * supplyForFdv) : null,
    total_volume: q.volume,
    high_24h: q.high24h,
    low_24h: q.low24h,
    price_change_24h: e.nullChange24h ? null : sig(q.price - q.price24hAgo),
    price_change_percentage_24h: e.nullChange24h ? null : percentChange(q.price, q.price24hAgo, 5),
    market_cap_change_24h: capKnown ? (q.marketCap ?? 0) - (q.marketCap24hAgo ?? 0) : null,
    market_cap_change_percentage_24h: capKnown ? percentChange(q.marketCap ?? 0, q.marketCap24hAgo ?? 0, 5) : null,
    circulating_supply: round(e.circulatingSupply),
    total_supply: e.totalSupply === null ? null : round(e.totalSupply),
    max_supply: e.maxSupply === null ? null : round(e.maxSupply),
    ath: sig(e.athPrice),
    ath_change_percentage: percentChange(q.price, e.athPrice, 5),
    ath_date: isoMs(e.athDateMs),
    atl: sig(e.atlPrice),
    atl_change_percentage: percentChange(q.price, e.atlPrice, 5),
    atl_date: isoMs(e.atlDateMs),
    roi: null,
    last_updated: isoMs(q.lastUpdatedMs),
  };
}

function paprikaTicker(model: Model, index: number, tick: number, rank: number): PaprikaTicker {
  const id = model.identity(index);
  const e = model.economics(index);
  const q = model.quoteAt(index, e, tick);
  // Change over the last `minutes` (= ticks); a coin without a known 24h change reports 0 everywhere.
  const change = (minutes: number): number =>
    e.nullChange24h ? 0 : percentChange(q.price, model.priceAt(index, e, tick - minutes), 2);
  return {
    id: id.paprikaId,
    name: id.paprikaName,
    symbol: id.symbol,
    rank,
    total_supply: round(e.totalSupply ?? e.circulatingSupply),
    max_supply: e.maxSupply === null ? 0 : round(e.maxSupply),
    beta_value: roundTo(e.beta, 5),
    first_data_at: isoSeconds(e.firstDataAtMs),
    last_updated: isoSeconds(q.lastUpdatedMs),
    quotes: {
      USD: {
        price: q.price,
        volume_24h: q.volume ?? 0,
        volume_24h_change_24h: percentChange(q.volume ?? 0, q.volume24hAgo ?? 0, 2),
        market_cap: q.marketCap ?? 0,
        market_cap_change_24h: percentChange(q.marketCap ?? 0, q.marketCap24hAgo ?? 0, 2),
        percent_change_15m: change(15),
        percent_change_30m: change(30),
        percent_change_1h: change(60),
        percent_change_6h: change(360),
        percent_change_12h: change(720),
        // The same 24h-ago price CoinGecko's price_change_percentage_24h uses, so the sources agree.
        percent_change_24h: e.nullChange24h ? 0 : percentChange(q.price, q.price24hAgo, 2),
        percent_change_7d: change(7 * TICKS_PER_DAY),
        percent_change_30d: change(30 * TICKS_PER_DAY),
        percent_change_1y: change(365 * TICKS_PER_DAY),
        ath_price: sig(e.athPrice),
        ath_date: isoSeconds(e.athDateMs),
        percent_from_price_ath: percentChange(q.price, e.athPrice, 2),
      },
    },
  };
}
