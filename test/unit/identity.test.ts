import { PRICE_WINDOW_MS, priceWeight, rankProximity, ratioAgreement, type Observation } from '../../src/identity/evidence';
import { nameKey, nameSimilarity, symbolKey } from '../../src/identity/keys';
import { MATCH_THRESHOLD, REVIEW_THRESHOLD, decide, type Candidate, type Listing } from '../../src/identity/match';

function listing(source: string, sourceAssetId: string, symbol: string, name: string, rank: number | null): Listing {
  return { source, sourceAssetId, symbol, name, rank };
}

const NOW = new Date('2026-12-03T12:00:00Z');
/** A quote `minutesLater` after NOW. */
const seen = (priceUsd: number, marketCapUsd: number | null = null, minutesLater = 0): Observation => ({
  priceUsd,
  marketCapUsd,
  observedAt: new Date(NOW.getTime() + minutesLater * 60_000),
});
const at = (l: Listing, observation: Observation): Listing => ({ ...l, observation });

const gecko = (id: string, symbol: string, name: string, rank: number | null = null): Listing =>
  listing('coingecko', id, symbol, name, rank);
const paprika = (id: string, symbol: string, name: string, rank: number | null = null): Listing =>
  listing('coinpaprika', id, symbol, name, rank);

function asset(assetId: string, ...listings: Listing[]): Candidate {
  return { assetId, listings };
}

describe('identity: decide', () => {
  test('When CoinGecko lists two WETH coins, then the second never joins the first, however alike they look', () => {
    const weth = asset('1', gecko('weth', 'WETH', 'WETH', 24));

    expect(decide(gecko('l2-standard-bridged-weth-base', 'WETH', 'Wrapped Ether (Base)', 180), [weth])).toEqual({
      kind: 'new',
      confidence: 1,
    });
    // Even a perfect name and rank cannot map a second id of the same source onto the asset.
    expect(decide(gecko('weth-clone', 'WETH', 'WETH', 24), [weth])).toMatchObject({ kind: 'new' });
    expect(decide(gecko('weth-clone', 'WETH', 'WETH', 24), [weth])).not.toHaveProperty('review');
  });

  test('When CoinPaprika meets the two CoinGecko WETHs, then its WETH goes to the one with the same name', () => {
    const candidates = [
      asset('1', gecko('weth', 'WETH', 'WETH', 24)),
      asset('2', gecko('l2-standard-bridged-weth-base', 'WETH', 'Wrapped Ether (Base)', 180)),
    ];
    const weth = paprika('weth-weth', 'WETH', 'WETH', 25);
    expect(decide(weth, candidates)).toMatchObject({ kind: 'matched', assetId: '1' });
    // Order does not matter: the best candidate wins.
    expect(decide(weth, [...candidates].reverse())).toMatchObject({ kind: 'matched', assetId: '1' });
  });

  test('When an asset already holds a listing of the incoming source, then it is skipped and the next best is taken', () => {
    const taken = asset('1', gecko('weth', 'WETH', 'WETH', 24), paprika('weth-weth', 'WETH', 'WETH', 25));
    const other = asset('2', gecko('weth-2', 'WETH', 'Weth', 30));
    expect(decide(paprika('weth-2-weth', 'WETH', 'WETH', 30), [taken, other])).toMatchObject({
      kind: 'matched',
      assetId: '2',
    });
  });

  test('When CoinPaprika "Wrapped Bitcoin" meets CoinGecko "Wrapped BTC" at a close rank, then they match', () => {
    const wbtc = (rank: number): Candidate => asset('7', gecko('wrapped-bitcoin', 'WBTC', 'Wrapped BTC', rank));
    const incoming = (rank: number): Listing => paprika('wbtc-wrapped-bitcoin', 'WBTC', 'Wrapped Bitcoin', rank);
    const decision = decide(incoming(62), [wbtc(60)]);
    expect(decision).toMatchObject({ kind: 'matched', assetId: '7' });
    expect(decision.confidence).toBeGreaterThanOrEqual(MATCH_THRESHOLD);
    expect(decide(incoming(16), [wbtc(16)])).toMatchObject({ kind: 'matched', assetId: '7' });
  });

  test('When "Wrapped Bitcoin" meets "Wrapped BTC" with no rank to support it, then it is a new asset flagged for review', () => {
    const decision = decide(paprika('wbtc-wrapped-bitcoin', 'WBTC', 'Wrapped Bitcoin'), [
      asset('7', gecko('wrapped-bitcoin', 'WBTC', 'Wrapped BTC', 16)),
    ]);
    expect(decision.kind).toBe('new');
    if (decision.kind !== 'new') return;
    expect(decision.review).toMatchObject({ assetId: '7', reason: expect.stringContaining('not sure') });
    expect(decision.review?.confidence).toBeGreaterThanOrEqual(REVIEW_THRESHOLD);
    expect(decision.review?.confidence).toBeLessThan(MATCH_THRESHOLD);
  });

  test('When "Wrapped Bitcoin" meets "Wrapped BTC" at distant ranks, then it is a new asset flagged for review', () => {
    const decision = decide(paprika('wbtc-wrapped-bitcoin', 'WBTC', 'Wrapped Bitcoin', 16), [
      asset('7', gecko('wrapped-bitcoin', 'WBTC', 'Wrapped BTC', 400)),
    ]);
    expect(decision).toMatchObject({ kind: 'new', review: { assetId: '7' } });
  });

  test('When two coins share the symbol UNI but not the name, then they stay apart, reviewed unless ranks tell them apart', () => {
    const uniswap = asset('3', gecko('uniswap', 'UNI', 'Uniswap', 20));
    expect(decide(paprika('uni-universe-token', 'UNI', 'Universe Token', 2400), [uniswap])).toEqual({
      kind: 'new',
      confidence: 1,
    });
    // With nothing but a name that shares "uni", the pair is not clearly different: a person is asked.
    expect(decide(paprika('uni-universe-token', 'UNI', 'Universe Token'), [uniswap])).toMatchObject({
      kind: 'new',
      review: { assetId: '3' },
    });
    // Even at the very same rank the name keeps them apart; a person is asked to look.
    expect(decide(paprika('uni-universe-token', 'UNI', 'Universe Token', 20), [uniswap])).toMatchObject({
      kind: 'new',
      review: { assetId: '3' },
    });
  });

  test('When "BNB" meets "Binance Coin" at the same rank and price, then they are one asset; without a price, reviewed', () => {
    // A ticker used as the name: the names share no letter pair, so the name says "different" (-2.2).
    const bnb = asset('4', at(gecko('binancecoin', 'BNB', 'BNB', 4), seen(612.4, 89e9)));
    const incoming = paprika('bnb-binance-coin', 'BNB', 'Binance Coin', 4);
    expect(decide(at(incoming, seen(611.9, 88e9, 3)), [bnb])).toMatchObject({ kind: 'matched', assetId: '4' });
    // Rank and price alone, with no market cap either, are enough.
    expect(decide(at(incoming, seen(611.9, null, 3)), [bnb])).toMatchObject({ kind: 'matched', assetId: '4' });
    // With no price to compare, the same rank is not enough to merge, but the pair is not clearly different either.
    expect(decide(incoming, [bnb])).toMatchObject({ kind: 'new', review: { assetId: '4' } });
  });

  test('When a source still shows a rebranded coin under its old name, then rank and price make it one asset', () => {
    const egld = asset('8', at(gecko('elrond-erd-2', 'EGLD', 'MultiversX', 60), seen(27.31, 745e6)));
    const old = at(paprika('egld-elrond', 'EGLD', 'Elrond', 61), seen(27.2, 740e6, -4));
    expect(decide(old, [egld])).toMatchObject({ kind: 'matched', assetId: '8' });
  });

  test('When two coins share a ticker and a name but not a price, then they stay apart: cents are not dollars', () => {
    const real = asset('9', at(gecko('pepe', 'PEPE', 'Pepe', 30), seen(0.0000182, 7.6e9)));
    const other = at(paprika('pepe-pepe-coin', 'PEPE', 'Pepe Coin', 2100), seen(1.93, 2e6, 1));
    expect(decide(other, [real])).toEqual({ kind: 'new', confidence: 1 });
    // Equal names and ranks, but prices twice apart or more: a person looks, nothing merges.
    const twin = at(paprika('pepe-pepe', 'PEPE', 'Pepe', 30), seen(0.0000364, 7.6e9, 1));
    expect(decide(twin, [real])).toMatchObject({ kind: 'new', review: { assetId: '9' } });
  });

  test('When any listing of the candidate is at twice the price at the same time, then no other listing of it can carry a merge', () => {
    // The CSV listing of the asset matches by name with no price to compare; CoinGecko's, quoted now, is 100× off.
    const pepe = asset('9', at(gecko('pepe', 'PEPE', 'Pepe', 40), seen(0.02)), at(listing('csv', 'pepe', 'PEPE', 'PEPE COIN', null), seen(1.91, null, -118)));
    const decision = decide(at(paprika('pepe-pepe', 'PEPE', 'Pepe Coin', null), seen(1.91, null, 1)), [pepe]);
    expect(decision).toMatchObject({ kind: 'new', review: { assetId: '9', reason: expect.stringContaining('twice the price') } });
  });

  test('When a CSV row names the coin and the candidate is its bridged copy at the same price, then no merge', () => {
    // No rank and no market cap on the CSV side: the name contains the other and the prices agree, but one is a copy.
    const copy = asset('11', at(gecko('bitcoin-wormhole', 'BTC', 'Bitcoin (Wormhole)', 2400), seen(96_800, 3e6)));
    const decision = decide(at(listing('csv', 'btc', 'BTC', 'Bitcoin', null), seen(96_900, null, 2)), [copy]);
    expect(decision).toMatchObject({ kind: 'new', review: { assetId: '11', reason: expect.stringContaining('wrapped or bridged copy') } });
  });

  test('When the best-scoring candidate is vetoed, then the next one may still match', () => {
    // A scores higher (its CoinGecko listing is named exactly so), but its CoinPaprika listing is at $1: vetoed.
    const a = asset('11', at(gecko('bitcoin', 'BTC', 'Bitcoin', null), seen(97_000)), at(paprika('btc-fake', 'BTC', 'Bitcoin', null), seen(1.0)));
    const b = asset('1', at(gecko('bitcoin-core', 'BTC', 'Bitcoin Core', null), seen(97_000)));
    const incoming = at(listing('csv', 'btc', 'BTC', 'Bitcoin', null), seen(97_050, null, 1));
    expect(decide(incoming, [a, b])).toMatchObject({ kind: 'matched', assetId: '1' });
    expect(decide(incoming, [b, a])).toMatchObject({ kind: 'matched', assetId: '1' });
  });

  test('When only the price agrees, with no rank or market cap beside it, then it counts half and a weak name does not merge', () => {
    const known = asset('12', at(gecko('gala', 'GALA', 'Gala Games', null), seen(0.041)));
    const weak = at(listing('csv', 'gala', 'GALA', 'Galaxy Arena', null), seen(0.041, null, 1));
    const decision = decide(weak, [known]);
    expect(decision.kind).toBe('new');
    if (decision.kind === 'new') expect(decision.review?.evidence.price).toBeCloseTo(3.5 / 2, 3);
  });

  test('When prices were observed further apart than the window, then price is no evidence either way', () => {
    const bnb = asset('4', at(gecko('binancecoin', 'BNB', 'BNB', 4), seen(612.4, 89e9)));
    const late = at(paprika('bnb-binance-coin', 'BNB', 'Binance Coin', 4), seen(612.4, 89e9, PRICE_WINDOW_MS / 60_000 + 1));
    expect(decide(late, [bnb])).toMatchObject({ kind: 'new', review: { assetId: '4', evidence: { price: 0, market_cap: 0 } } });
  });

  test('When two different dollar stablecoins share a ticker, then their equal prices do not merge them', () => {
    const usdx = asset('10', at(gecko('usdx-money', 'USDX', 'USDX Money', 800), seen(1.0, null)));
    const other = at(paprika('usdx-stable', 'USDX', 'Stable USDX', null), seen(0.999, null, 2));
    const decision = decide(other, [usdx]);
    expect(decision.kind).toBe('new');
  });

  test('When CoinGecko lists two bridged WETHs at one price, then the second still never joins the first', () => {
    const weth = asset('1', at(gecko('weth', 'WETH', 'WETH', 24), seen(3300, 8.5e9)));
    const bridged = at(gecko('l2-standard-bridged-weth-base', 'WETH', 'WETH', 24), seen(3300, 8.5e9));
    expect(decide(bridged, [weth])).toEqual({ kind: 'new', confidence: 1 });
  });

  test('When a listing is kept apart but close, then the review carries every term of the evidence', () => {
    const decision = decide(paprika('bnb-binance-coin', 'BNB', 'Binance Coin', 4), [asset('4', gecko('binancecoin', 'BNB', 'BNB', 4))]);
    if (decision.kind !== 'new' || !decision.review) throw new Error(`expected a review, got ${JSON.stringify(decision)}`);
    const { evidence, confidence, reason } = decision.review;
    expect(evidence.total).toBeCloseTo(evidence.prior + evidence.name + evidence.rank + evidence.price + evidence.market_cap, 3);
    expect(confidence).toBeCloseTo(1 / (1 + Math.exp(-evidence.total)), 3);
    expect(reason).toContain(`name ${evidence.name}`);
  });

  test('When names differ only by accents and case, then they match, more surely with a rank than without', () => {
    const oko = asset('5', gecko('okocoin', 'OKO', 'Ökocoin', 900));
    const ranked = decide(paprika('oko-okocoin', 'oko', 'okocoin', 900), [oko]);
    const unranked = decide(paprika('oko-okocoin', 'OKO', 'OKOCOIN', null), [oko]);
    expect(ranked).toMatchObject({ kind: 'matched', assetId: '5' });
    expect(unranked).toMatchObject({ kind: 'matched', assetId: '5' });
    expect(unranked.confidence).toBeGreaterThanOrEqual(MATCH_THRESHOLD);
    expect(ranked.confidence).toBeGreaterThan(unranked.confidence);
  });

  test('When one side writes the symbol with a diacritic and the other without, then they still meet', () => {
    const oko = asset('5', gecko('okocoin', 'ÖKO', 'Ökocoin', null));
    expect(decide(listing('csv', 'oko', 'OKO', 'Ökocoin', null), [oko])).toMatchObject({ kind: 'matched', assetId: '5' });
    expect(decide(listing('csv', 'oko', 'Ōko', 'Okocoin', null), [oko])).toMatchObject({ kind: 'matched', assetId: '5' });
  });

  test('When CoinGecko says "USDC" and CoinPaprika "USD Coin", then containment is enough to match', () => {
    const usdc = asset('6', gecko('usd-coin', 'USDC', 'USDC', 6));
    const decision = decide(paprika('usdc-usd-coin', 'USDC', 'USD Coin', 6), [usdc]);
    expect(decision).toMatchObject({ kind: 'matched', assetId: '6' });
  });

  test('When the name matches but the symbol does not, then the candidate is not considered', () => {
    const bitcoin = asset('1', gecko('bitcoin', 'BTC', 'Bitcoin', 1));
    expect(decide(paprika('xbt-bitcoin', 'XBT', 'Bitcoin', 1), [bitcoin])).toEqual({ kind: 'new', confidence: 1 });
  });

  test('When symbols differ only in case, punctuation or width, then they still nominate the candidate', () => {
    const btc = asset('1', gecko('bitcoin', 'btc', 'Bitcoin', 1));
    for (const symbol of ['ＢＴＣ', 'B.T.C', ' Btc ']) {
      const decision = decide(paprika('btc-bitcoin', symbol, 'Bitcoin', 1), [btc]);
      expect(decision).toMatchObject({ kind: 'matched', assetId: '1' });
    }
  });

  test('When there are no candidates, then the coin is a new asset with nothing to review', () => {
    expect(decide(gecko('bitcoin', 'BTC', 'Bitcoin', 1), [])).toEqual({ kind: 'new', confidence: 1 });
  });
});

describe('identity: keys and scores', () => {
  test('When symbols are keyed, then case, width, punctuation and accents fall away but letters of any script stay', () => {
    expect(symbolKey(' weth.e ')).toBe('WETHE');
    expect(symbolKey('ＢＴＣ')).toBe('BTC');
    expect(symbolKey('ökö')).toBe('OKO');
    expect(symbolKey('ÖKO')).toBe(symbolKey('oko'));
    expect(symbolKey('Ｓ̌OL')).toBe('SOL');
    expect(symbolKey('比特')).toBe('比特');
  });

  test('When names are keyed, then accents, case, spaces and punctuation fall away but letters of any script stay', () => {
    expect(nameKey('Ökocoin')).toBe('okocoin');
    expect(nameKey('Café Crème')).toBe('cafecreme');
    expect(nameKey('Wrapped Ether (Base)')).toBe('wrappedetherbase');
    expect(nameKey('比特币现金')).toBe('比特币现金');
    expect(nameKey('Rocket 🚀')).toBe('rocket');
  });

  test('When names are compared, then equal keys score 1, containment 0.85 and unrelated names near 0', () => {
    expect(nameSimilarity('Ökocoin', 'okocoin')).toBe(1);
    expect(nameSimilarity('USDC', 'USD Coin')).toBe(0.85);
    expect(nameSimilarity('Wrapped Bitcoin', 'Wrapped BTC')).toBeCloseTo(16 / 22, 10);
    expect(nameSimilarity('BNB', 'Binance Coin')).toBe(0);
    expect(nameSimilarity('Uniswap', 'Universe Token')).toBeLessThan(0.25);
    expect(nameSimilarity('', 'Bitcoin')).toBe(0);
    expect(nameSimilarity('🚀', 'Bitcoin')).toBe(0);
  });

  test('When names are compared both ways round, then the score is the same', () => {
    for (const [a, b] of [
      ['Wrapped Bitcoin', 'Wrapped BTC'],
      ['Uniswap', 'Universe Token'],
      ['USD Coin', 'USDC'],
      ['aab', 'abb'],
    ] as const) {
      expect(nameSimilarity(a, b)).toBe(nameSimilarity(b, a));
    }
  });

  test('When repeated letter pairs are compared, then each pair counts once per occurrence', () => {
    // "aaaa" has three "aa" pairs and "aab" one: they share one, so 2 × 1 / (3 + 2).
    expect(nameSimilarity('aaaa', 'aab')).toBeCloseTo((2 * 1) / (3 + 2), 10);
    expect(nameSimilarity('abab', 'baba')).toBeCloseTo((2 * 2) / (3 + 3), 10);
  });

  test('When prices are compared, then within 5% they agree, twice apart or more they contradict, between they fade', () => {
    expect(ratioAgreement(100, 104, { same: 1.05, unsure: 1.2, different: 2 })).toBe(1);
    expect(ratioAgreement(100, 120, { same: 1.05, unsure: 1.2, different: 2 })).toBeCloseTo(0, 10);
    expect(ratioAgreement(200, 100, { same: 1.05, unsure: 1.2, different: 2 })).toBe(-1);
    expect(ratioAgreement(0.02, 3, { same: 1.05, unsure: 1.2, different: 2 })).toBe(-1);
    expect(priceWeight(seen(100), seen(101))).toBeGreaterThan(0);
    expect(priceWeight(seen(100), seen(300))).toBeLessThan(0);
    // Disagreement weighs more than agreement; a $1 peg agrees for every stablecoin, so it counts half.
    expect(-priceWeight(seen(100), seen(300))).toBeGreaterThan(priceWeight(seen(100), seen(100)));
    expect(priceWeight(seen(1), seen(1.001))).toBeCloseTo(priceWeight(seen(100), seen(100)) / 2, 10);
    // No price, or too far apart in time: no evidence.
    expect(priceWeight(seen(100), undefined)).toBe(0);
    expect(priceWeight(seen(100), seen(100, null, 16))).toBe(0);
    expect(priceWeight(seen(100), seen(100, null, -15))).toBeGreaterThan(0);
  });

  test('When ranks are compared, then equal is 1, the documented distance is 0.5 and further is less', () => {
    expect(rankProximity(10, 10)).toBe(1);
    expect(rankProximity(10, 13)).toBe(0.5); // max(3, 20% of 10) = 3
    expect(rankProximity(500, 600)).toBe(0.5); // 20% of 500 = 100
    expect(rankProximity(600, 500)).toBe(rankProximity(500, 600));
    expect(rankProximity(1, 100)).toBeLessThan(rankProximity(1, 10));
  });
});
