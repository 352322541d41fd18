import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createMarket, type GeckoMarket, type PaprikaTicker } from '../../src/simulator/market';
import { startSimulator, type Fault, type Simulator } from '../../src/simulator/server';

const MARKETS = '/api/v3/coins/markets';
const TICKERS = '/v1/tickers';

function marketsPath(page: number, perPage = 250, currency = 'usd'): string {
  return `${MARKETS}?vs_currency=${currency}&order=market_cap_desc&per_page=${perPage}&page=${page}`;
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  bytes: number;
}

async function request(sim: Simulator, path: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(`${sim.url}${path}`, init);
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, text: body.toString('utf8'), bytes: body.length };
}

async function json<T>(sim: Simulator, path: string): Promise<T> {
  const reply = await request(sim, path);
  expect(reply.status).toBe(200);
  return JSON.parse(reply.text) as T;
}

async function allGeckoPages(sim: Simulator, perPage = 250): Promise<GeckoMarket[][]> {
  const pages: GeckoMarket[][] = [];
  for (let page = 1; ; page++) {
    const items = await json<GeckoMarket[]>(sim, marketsPath(page, perPage));
    if (items.length === 0) return pages;
    pages.push(items);
  }
}

function postFault(sim: Simulator, fault: unknown): Promise<Reply> {
  return request(sim, '/__sim/faults', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fault),
  });
}

describe('market simulator', () => {
  let sim: Simulator;

  beforeEach(async () => {
    sim = await startSimulator({ coins: 800, seed: 42, port: 0 });
  });

  afterEach(async () => {
    await sim.close();
  });

  describe('determinism', () => {
    test('When two simulators share a seed, then both answer the same bytes, and another seed differs', async () => {
      const twin = await startSimulator({ coins: 800, seed: 42, port: 0 });
      const other = await startSimulator({ coins: 800, seed: 43, port: 0 });
      try {
        for (const path of [marketsPath(1), marketsPath(3), TICKERS]) {
          const [mine, twins, others] = await Promise.all([sim, twin, other].map((s) => request(s, path)));
          expect(twins?.text).toBe(mine?.text);
          expect(others?.text).not.toBe(mine?.text);
        }
      } finally {
        await Promise.all([twin.close(), other.close()]);
      }
    });

    test('When nothing ticks, then repeated requests answer byte-for-byte identical bodies', async () => {
      const first = await Promise.all([request(sim, marketsPath(2)), request(sim, TICKERS)]);
      const again = await Promise.all([request(sim, marketsPath(2)), request(sim, TICKERS)]);
      expect(again.map((r) => r.text)).toEqual(first.map((r) => r.text));
    });

    test('When the market ticks, then prices move and only changed coins get the new clock as last_updated', async () => {
      const before = await json<PaprikaTicker[]>(sim, TICKERS);
      sim.tick();
      const after = await json<PaprikaTicker[]>(sim, TICKERS);
      const previous = new Map(before.map((t) => [t.id, t]));

      const moved = after.filter((t) => previous.get(t.id)?.quotes.USD.price !== t.quotes.USD.price);
      const stayed = after.filter((t) => previous.get(t.id)?.quotes.USD.price === t.quotes.USD.price);
      expect(moved.length).toBeGreaterThan(after.length * 0.2);
      expect(stayed.length).toBeGreaterThan(0);
      for (const t of moved) expect(t.last_updated).toBe('2026-01-01T00:01:00Z');
      for (const t of stayed) expect(t.last_updated).toBe(previous.get(t.id)?.last_updated);
      expect(sim.market.now().toISOString()).toBe('2026-01-01T00:01:00.000Z');
    });

    test('When ticking through the admin endpoint, then the clock and CoinGecko prices advance', async () => {
      const before = await json<GeckoMarket[]>(sim, marketsPath(1));
      const tick = await request(sim, '/__sim/tick?n=3', { method: 'POST' });
      expect(JSON.parse(tick.text)).toEqual({ tick: 3, now: '2026-01-01T00:03:00.000Z' });
      const after = await json<GeckoMarket[]>(sim, marketsPath(1));
      const price = new Map(before.map((c) => [c.id, c.current_price]));
      expect(after.some((c) => price.has(c.id) && price.get(c.id) !== c.current_price)).toBe(true);
      expect(after.some((c) => c.last_updated === '2026-01-01T00:03:00.000Z')).toBe(true);
    });
  });

  describe('CoinGecko /coins/markets', () => {
    test('When paging at per_page=250, then every CoinGecko coin appears exactly once, ranked by market cap', async () => {
      const pages = await allGeckoPages(sim);
      const coins = pages.flat();
      expect(pages.slice(0, -1).every((p) => p.length === 250)).toBe(true);
      expect(coins.length).toBe(sim.market.view().geckoCount);
      expect(new Set(coins.map((c) => c.id)).size).toBe(coins.length);

      const ranked = coins.filter((c) => c.market_cap !== null);
      ranked.forEach((c, i) => expect(c.market_cap_rank).toBe(i + 1));
      for (let i = 1; i < ranked.length; i++) {
        expect(ranked[i]?.market_cap ?? 0).toBeLessThanOrEqual(ranked[i - 1]?.market_cap ?? 0);
      }
      // Coins without a market cap come last and unranked, as on CoinGecko.
      const unranked = coins.slice(ranked.length);
      expect(unranked.every((c) => c.market_cap === null && c.market_cap_rank === null)).toBe(true);
    });

    test('When reading a page, then each item has exactly CoinGecko’s fields and a lower-case symbol', async () => {
      const [first] = await json<GeckoMarket[]>(sim, marketsPath(1, 1));
      expect(Object.keys(first ?? {})).toEqual([
        'id', 'symbol', 'name', 'image', 'current_price', 'market_cap', 'market_cap_rank', 'fully_diluted_valuation',
        'total_volume', 'high_24h', 'low_24h', 'price_change_24h', 'price_change_percentage_24h',
        'market_cap_change_24h', 'market_cap_change_percentage_24h', 'circulating_supply', 'total_supply',
        'max_supply', 'ath', 'ath_change_percentage', 'ath_date', 'atl', 'atl_change_percentage', 'atl_date', 'roi',
        'last_updated',
      ]);
      const coins = (await allGeckoPages(sim)).flat();
      expect(coins.every((c) => c.symbol === c.symbol.toLowerCase())).toBe(true);
      expect(coins.every((c) => new Date(c.last_updated).toISOString() === c.last_updated)).toBe(true);
    });

    test('When listing CoinGecko, then both WETH coins are there and BNB is named as CoinGecko names it', async () => {
      const coins = (await allGeckoPages(sim)).flat();
      const weth = coins.filter((c) => c.symbol === 'weth').map((c) => [c.id, c.name]);
      expect(weth).toEqual(
        expect.arrayContaining([
          ['weth', 'WETH'],
          ['l2-standard-bridged-weth-base', 'Wrapped Ether (Base)'],
        ]),
      );
      expect(coins.find((c) => c.id === 'binancecoin')?.name).toBe('BNB');
      const tickers = await json<PaprikaTicker[]>(sim, TICKERS);
      expect(tickers.find((t) => t.id === 'bnb-binancecoin')?.name).toBe('Binance Coin');
      expect(tickers.find((t) => t.id === 'btc-bitcoin')?.symbol).toBe('BTC');
    });

    test('When a page is past the end, then the answer is an empty array', async () => {
      expect(await json<unknown[]>(sim, marketsPath(1000))).toEqual([]);
    });

    test('When per_page is over 250 or the currency is not usd, then the answer is a 400 with an error body', async () => {
      for (const path of [marketsPath(1, 251), marketsPath(1, 0), marketsPath(1, 100, 'eur'), `${MARKETS}?per_page=10`]) {
        const reply = await request(sim, path);
        expect(reply.status).toBe(400);
        expect(JSON.parse(reply.text)).toEqual({ error: expect.any(String) });
      }
    });

    test('When a client sends a CoinGecko key header, then the simulator records which one arrived', async () => {
      await request(sim, marketsPath(1, 5), { headers: { 'x-cg-pro-api-key': 'pro-key' } });
      expect(sim.lastRequestHeaders?.['x-cg-pro-api-key']).toBe('pro-key');
      expect(sim.lastRequestHeaders?.['x-cg-demo-api-key']).toBeUndefined();
      await request(sim, marketsPath(1, 5), { headers: { 'x-cg-demo-api-key': 'demo-key' } });
      expect(sim.lastRequestHeaders?.['x-cg-demo-api-key']).toBe('demo-key');
    });
  });

  describe('CoinPaprika /v1/tickers and the market model', () => {
    test('When fetching tickers, then they have CoinPaprika’s shape without circulating_supply', async () => {
      const tickers = await json<PaprikaTicker[]>(sim, TICKERS);
      expect(tickers).toHaveLength(sim.market.view().paprikaCount);
      for (const t of tickers) {
        expect(t).not.toHaveProperty('circulating_supply');
        expect(t.symbol).toBe(t.symbol.toUpperCase());
        expect(t.id.startsWith(`${t.symbol.toLowerCase()}-`)).toBe(true);
        expect(Object.keys(t.quotes)).toEqual(['USD']);
      }
      expect(tickers.some((t) => t.max_supply === 0)).toBe(true);
      expect(Object.keys(tickers[0]?.quotes.USD ?? {})).toContain('percent_change_1y');
    });

    test('When comparing the sources, then most coins are on both, some on one only, and none are missing', async () => {
      const gecko = new Set((await allGeckoPages(sim)).flat().map((c) => c.id));
      const paprika = new Set((await json<PaprikaTicker[]>(sim, TICKERS)).map((t) => t.id));
      let both = 0;
      let geckoOnly = 0;
      let paprikaOnly = 0;
      for (let i = 0; i < sim.market.coinCount; i++) {
        const coin = sim.market.coin(i);
        const onGecko = gecko.has(coin.geckoId);
        const onPaprika = paprika.has(coin.paprikaId);
        if (onGecko && onPaprika) both++;
        else if (onGecko) geckoOnly++;
        else if (onPaprika) paprikaOnly++;
      }
      expect(both + geckoOnly + paprikaOnly).toBe(sim.market.coinCount);
      expect(both / sim.market.coinCount).toBeGreaterThan(0.7);
      expect(geckoOnly).toBeGreaterThan(0);
      expect(paprikaOnly).toBeGreaterThan(0);
    });

    test('When generating coins, then some symbols collide, some names differ between sources and some are Unicode', () => {
      const market = createMarket({ coins: 3000, seed: 42 });
      const coins = Array.from({ length: market.coinCount }, (_, i) => market.coin(i));
      const namesBySymbol = new Map<string, Set<string>>();
      for (const c of coins) namesBySymbol.set(c.symbol, (namesBySymbol.get(c.symbol) ?? new Set()).add(c.geckoName));
      const collisions = [...namesBySymbol.values()].filter((names) => names.size > 1).length;
      const renamed = coins.filter((c) => c.paprikaName !== c.geckoName).length;

      expect(collisions).toBeGreaterThan(30);
      expect(renamed / coins.length).toBeGreaterThan(0.01);
      expect(renamed / coins.length).toBeLessThan(0.06);
      expect(coins.some((c) => /[^\x00-\x7f]/.test(c.geckoName))).toBe(true);
      expect(new Set(coins.map((c) => c.geckoId)).size).toBe(coins.length);
      expect(new Set(coins.map((c) => c.paprikaId)).size).toBe(coins.length);
    });

    test('When reading CoinGecko, then extreme numbers and null fields appear and still parse', async () => {
      const coins = (await allGeckoPages(sim)).flat();
      expect(coins.some((c) => c.current_price > 0 && c.current_price < 1e-10)).toBe(true);
      expect(coins.some((c) => (c.market_cap ?? 0) > 5e14)).toBe(true);
      expect(coins.some((c) => c.market_cap === null)).toBe(true);
      expect(coins.some((c) => c.total_volume === null)).toBe(true);
      expect(coins.some((c) => c.price_change_percentage_24h === null)).toBe(true);
      expect(coins.every((c) => Number.isFinite(c.current_price) && c.current_price > 0)).toBe(true);
    });

    test('When the model is asked for invalid input, then it refuses instead of guessing', () => {
      expect(() => createMarket({ coins: -1 })).toThrow(RangeError);
      expect(() => createMarket({ coins: 10 }).coin(10)).toThrow(RangeError);
      expect(() => createMarket({ seed: 1.5 })).toThrow(RangeError);
    });
  });

  describe('faults', () => {
    test('When CoinGecko is rate limited twice, then two 429s with Retry-After precede a 200', async () => {
      sim.setFault({ kind: 'rate-limit', source: 'coingecko', times: 2, retryAfterSeconds: 7 });
      expect((await request(sim, TICKERS)).status).toBe(200);
      for (let i = 0; i < 2; i++) {
        const reply = await request(sim, marketsPath(1));
        expect(reply.status).toBe(429);
        expect(reply.headers.get('retry-after')).toBe('7');
        expect(JSON.parse(reply.text)).toMatchObject({ status: { error_code: 429 } });
      }
      expect((await request(sim, marketsPath(1))).status).toBe(200);
      expect(sim.requests.count(MARKETS)).toBe(3);
      expect(sim.requests.count(TICKERS)).toBe(1);
      expect(sim.requests.count()).toBe(4);
    });

    test('When a rate limit has no retryAfterSeconds, then the 429 carries no Retry-After header', async () => {
      sim.setFault({ kind: 'rate-limit' });
      const reply = await request(sim, TICKERS);
      expect(reply.status).toBe(429);
      expect(reply.headers.has('retry-after')).toBe(false);
    });

    test('When a server error is set, then the next request gets a 500 and the one after succeeds', async () => {
      sim.setFault({ kind: 'server-error', source: 'coinpaprika' });
      expect((await request(sim, TICKERS)).status).toBe(500);
      expect((await request(sim, TICKERS)).status).toBe(200);
    });

    test('When a slow fault is set, then the answer comes after the delay and is still correct', async () => {
      const expected = (await request(sim, marketsPath(1))).text;
      sim.setFault({ kind: 'slow', delayMs: 300 });
      const started = Date.now();
      const reply = await request(sim, marketsPath(1));
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
      expect(reply.text).toBe(expected);
    });

    test.each([MARKETS, TICKERS])(
      'When %s is truncated, then a 200 body of the announced length fails to parse',
      async (path) => {
        const full = await request(sim, path === MARKETS ? marketsPath(1) : path);
        sim.setFault({ kind: 'truncated' });
        const reply = await request(sim, path === MARKETS ? marketsPath(1) : path);
        expect(reply.status).toBe(200);
        expect(Number(reply.headers.get('content-length'))).toBe(reply.bytes);
        expect(reply.bytes).toBe(Math.floor(full.bytes / 2));
        expect(() => JSON.parse(reply.text)).toThrow(SyntaxError);
      },
    );

    test('When a field is renamed, then every record carries it under the new name only', async () => {
      sim.setFault({ kind: 'rename-field', source: 'coingecko', field: 'current_price' });
      const coins = await json<Record<string, unknown>[]>(sim, marketsPath(1));
      expect(coins.length).toBe(250);
      for (const c of coins) {
        expect(c).not.toHaveProperty('current_price');
        expect(typeof c.current_price_renamed).toBe('number');
      }
      expect(await json<GeckoMarket[]>(sim, marketsPath(1))).toEqual(
        expect.arrayContaining([expect.objectContaining({ current_price: expect.any(Number) })]),
      );
    });

    test('When a field goes missing, then no record has it, top-level or nested', async () => {
      sim.setFault({ kind: 'missing-field', source: 'coinpaprika', field: 'symbol' });
      const tickers = await json<Record<string, unknown>[]>(sim, TICKERS);
      expect(tickers.length).toBeGreaterThan(0);
      expect(tickers.some((t) => 'symbol' in t)).toBe(false);

      sim.setFault({ kind: 'missing-field', field: 'quotes.USD.price' });
      const nested = await json<PaprikaTicker[]>(sim, TICKERS);
      expect(nested.some((t) => 'price' in t.quotes.USD)).toBe(false);
      expect(nested.every((t) => 'market_cap' in t.quotes.USD)).toBe(true);
    });

    test('When a fault is set until cleared, then it applies to every request until clearFaults()', async () => {
      sim.setFault({ kind: 'server-error', times: Infinity });
      for (let i = 0; i < 4; i++) expect((await request(sim, marketsPath(1, 10))).status).toBe(500);
      sim.clearFaults();
      expect((await request(sim, marketsPath(1, 10))).status).toBe(200);
    });

    test('When faults are queued, then each request takes the first matching one in order', async () => {
      sim.setFault({ kind: 'rate-limit', times: 1 });
      sim.setFault({ kind: 'server-error', times: 1 });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await request(sim, TICKERS)).status);
      expect(statuses).toEqual([429, 500, 200]);
    });

    test('When faults are set over the admin endpoint, then they apply, and DELETE clears them', async () => {
      const created = await postFault(sim, { kind: 'server-error', source: 'coingecko', times: -1 });
      expect(created.status).toBe(201);
      expect(JSON.parse(created.text)).toEqual([{ kind: 'server-error', source: 'coingecko', times: -1, remaining: -1 }]);
      expect((await request(sim, marketsPath(1, 10))).status).toBe(500);
      expect((await request(sim, TICKERS)).status).toBe(200);

      expect((await request(sim, '/__sim/faults', { method: 'DELETE' })).status).toBe(204);
      expect((await request(sim, marketsPath(1, 10))).status).toBe(200);
      // Admin calls are not data requests.
      expect(sim.requests.count()).toBe(3);
    });

    test('When an invalid fault is posted or set, then it is refused', async () => {
      const invalid = [
        { kind: 'explode' },
        { kind: 'rename-field' },
        { kind: 'slow', delayMs: -5 },
        { kind: 'rate-limit', times: 0 },
        { kind: 'server-error', source: 'coinmarketcap' },
      ];
      for (const fault of invalid) {
        expect((await postFault(sim, fault)).status).toBe(400);
      }
      expect(() => sim.setFault({ kind: 'missing-field' } as Fault)).toThrow(/needs a field/);
      const health = JSON.parse((await request(sim, '/__sim/health')).text) as { status: string; faults: unknown[] };
      expect(health).toMatchObject({ status: 'ok', tick: 0, coins: 800, faults: [] });
    });
  });

  test('When the market has 112k coins, then /v1/tickers streams them all and CoinGecko page 400 is full', async () => {
    const big = await startSimulator({ coins: 112_000, seed: 7, port: 0 });
    try {
      const view = big.market.view();
      expect(view.paprikaCount).toBeGreaterThan(100_000);
      const reply = await request(big, TICKERS);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('transfer-encoding')).toBe('chunked');
      const tickers = JSON.parse(reply.text) as PaprikaTicker[];
      expect(tickers).toHaveLength(view.paprikaCount);
      expect(tickers[tickers.length - 1]?.id).toBeDefined();

      const page = await json<GeckoMarket[]>(big, marketsPath(400));
      expect(page).toHaveLength(250);
      expect(page[0]?.market_cap_rank).toBe(399 * 250 + 1);
    } finally {
      await big.close();
    }
  });

  test('When started from the command line, then it prints its URL, serves, and exits cleanly on SIGTERM', async () => {
    const main = join(__dirname, '../../src/simulator/main.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', main, '--coins', '50', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
      const url = chunk.toString('utf8').trim();
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = (await (await fetch(`${url}/__sim/health`)).json()) as { coins: number };
      expect(health.coins).toBe(50);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
