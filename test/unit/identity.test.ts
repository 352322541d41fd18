import {
  MATCH_THRESHOLD,
  REVIEW_THRESHOLD,
  decide,
  nameKey,
  nameSimilarity,
  rankProximity,
  symbolKey,
  type Candidate,
  type Listing,
} from '../../src/identity/match';

function listing(source: string, sourceAssetId: string, symbol: string, name: string, rank: number | null): Listing {
  return { source, sourceAssetId, symbol, name, rank };
}

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
    expect(decision.review).toMatchObject({ assetId: '7', reason: expect.stringContaining('weak match') });
    expect(decision.review?.confidence).toBeGreaterThanOrEqual(REVIEW_THRESHOLD);
    expect(decision.review?.confidence).toBeLessThan(MATCH_THRESHOLD);
  });

  test('When "Wrapped Bitcoin" meets "Wrapped BTC" at distant ranks, then it is a new asset flagged for review', () => {
    const decision = decide(paprika('wbtc-wrapped-bitcoin', 'WBTC', 'Wrapped Bitcoin', 16), [
      asset('7', gecko('wrapped-bitcoin', 'WBTC', 'Wrapped BTC', 400)),
    ]);
    expect(decision).toMatchObject({ kind: 'new', review: { assetId: '7' } });
  });

  test('When two coins share the symbol UNI but not the name, then they stay apart', () => {
    const uniswap = asset('3', gecko('uniswap', 'UNI', 'Uniswap', 20));
    expect(decide(paprika('uni-universe-token', 'UNI', 'Universe Token', 2400), [uniswap])).toEqual({
      kind: 'new',
      confidence: 1,
    });
    expect(decide(paprika('uni-universe-token', 'UNI', 'Universe Token'), [uniswap])).toEqual({
      kind: 'new',
      confidence: 1,
    });
    // Even at the very same rank the name keeps them apart; a person is asked to look.
    expect(decide(paprika('uni-universe-token', 'UNI', 'Universe Token', 20), [uniswap])).toMatchObject({
      kind: 'new',
      review: { assetId: '3' },
    });
  });

  test('When "BNB" meets "Binance Coin" at the same rank, then they stay apart, below even the review band', () => {
    // Rank alone is worth at most 0.3 and the names share no letter pair, so the score is 0.3 < REVIEW_THRESHOLD:
    // the name decides, and an override is how a person joins these two.
    const decision = decide(paprika('bnb-binance-coin', 'BNB', 'Binance Coin', 4), [
      asset('4', gecko('binancecoin', 'BNB', 'BNB', 4)),
    ]);
    expect(decision).toEqual({ kind: 'new', confidence: 1 });
  });

  test('When names differ only by accents and case, then they match with full name confidence', () => {
    const oko = asset('5', gecko('okocoin', 'OKO', 'Ökocoin', 900));
    const ranked = paprika('oko-okocoin', 'oko', 'okocoin', 900);
    expect(decide(ranked, [oko])).toEqual({ kind: 'matched', assetId: '5', confidence: 1 });
    // Without ranks the name alone is a little less sure, but still a match.
    const unranked = paprika('oko-okocoin', 'OKO', 'OKOCOIN', null);
    expect(decide(unranked, [oko])).toEqual({ kind: 'matched', assetId: '5', confidence: 0.95 });
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
  test('When symbols are keyed, then case, width and punctuation fall away but letters of any script stay', () => {
    expect(symbolKey(' weth.e ')).toBe('WETHE');
    expect(symbolKey('ＢＴＣ')).toBe('BTC');
    expect(symbolKey('ökö')).toBe('ÖKÖ');
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
    expect(nameSimilarity('Uniswap', 'Universe Token')).toBeLessThan(REVIEW_THRESHOLD);
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

  test('When ranks are compared, then equal is 1, the documented distance is 0.5 and further is less', () => {
    expect(rankProximity(10, 10)).toBe(1);
    expect(rankProximity(10, 13)).toBe(0.5); // max(3, 20% of 10) = 3
    expect(rankProximity(500, 600)).toBe(0.5); // 20% of 500 = 100
    expect(rankProximity(600, 500)).toBe(rankProximity(500, 600));
    expect(rankProximity(1, 100)).toBeLessThan(rankProximity(1, 10));
  });
});
