import { loadConfig } from '../../src/config';
import { freePort } from '../../src/infra/temporal-binaries';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import {
  InvalidPayloadError,
  RateLimitedError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from '../../src/shared/errors';
import { createSources, sourceNamed } from '../../src/sources';
import type { Page, Source, SourceRecord } from '../../src/sources/types';
import { fixture, startStubUpstream, type StubUpstream } from '../fixtures/upstream';

const CONTEXT = { runId: 'coingecko-test-run' };

function coingecko(env: Record<string, string>): Source {
  const config = loadConfig({ COINGECKO_RATE_LIMIT_PER_MIN: '100000', ...env });
  return sourceNamed(createSources(config.sources), 'coingecko');
}

/** A record as fetchPage hands it over. */
function record(payload: unknown): SourceRecord {
  return { id: 'bitcoin', payload, locator: 'page 1 item 0' };
}

const bitcoin = (): Record<string, unknown> => fixture('coingecko-market.json');

describe('CoinGecko normalize', () => {
  const source = coingecko({});

  test('When a full /coins/markets record arrives, then it maps field for field onto the quote', () => {
    expect(source.normalize(record(bitcoin()))).toEqual({
      ok: true,
      quote: {
        sourceAssetId: 'bitcoin',
        symbol: 'BTC',
        name: 'Bitcoin',
        priceUsd: 94123.45,
        marketCapUsd: 1864523456789,
        volume24hUsd: 35123456789.12,
        percentChange24h: -0.54123,
        rank: 1,
        sourceUpdatedAt: new Date('2025-01-10T12:34:56.789Z'),
      },
    });
  });

  test('When optional fields are null, then the quote has nulls there', () => {
    const nulls = { market_cap: null, total_volume: null, price_change_percentage_24h: null, market_cap_rank: null };
    const payload = { ...bitcoin(), ...nulls };
    const outcome = source.normalize(record(payload));
    expect(outcome).toMatchObject({
      ok: true,
      quote: { priceUsd: 94123.45, marketCapUsd: null, volume24hUsd: null, percentChange24h: null, rank: null },
    });
  });

  test('When optional fields are absent, then the quote has nulls there', () => {
    const payload = bitcoin();
    const optional = ['market_cap', 'total_volume', 'price_change_percentage_24h', 'market_cap_rank'];
    for (const field of optional) delete payload[field];
    expect(source.normalize(record(payload))).toMatchObject({
      ok: true,
      quote: { marketCapUsd: null, volume24hUsd: null, percentChange24h: null, rank: null },
    });
  });

  test('When optional numbers are empty strings, then the quote loads with nulls there, not quarantined', () => {
    const payload = { ...bitcoin(), market_cap: '', total_volume: '', price_change_percentage_24h: '' };
    expect(source.normalize(record(payload))).toMatchObject({
      ok: true,
      quote: { marketCapUsd: null, volume24hUsd: null, percentChange24h: null, priceUsd: bitcoin().current_price },
    });
  });

  test('When the required price is an empty string, then the record is refused, never loaded with a made-up price', () => {
    expect(source.normalize(record({ ...bitcoin(), current_price: '' }))).toMatchObject({ ok: false, reason: expect.stringContaining('current_price') });
  });

  test.each(['current_price', 'last_updated', 'id', 'symbol', 'name'])(
    'When the required field %s is missing, then the record is refused with a reason naming it',
    (field) => {
      const payload = bitcoin();
      delete payload[field];
      const outcome = source.normalize(record(payload));
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.reason).toMatch(new RegExp(`→ at ${field}$`, 'm'));
    },
  );

  test.each([
    ['a null price', { current_price: null }],
    ['a negative price', { current_price: -1 }],
    ['a price as text', { current_price: '94123.45' }],
    ['a negative market cap', { market_cap: -5 }],
    ['a fractional rank', { market_cap_rank: 1.5 }],
    ['a date that is not ISO 8601', { last_updated: '10/01/2025' }],
    ['an empty symbol', { symbol: '' }],
    ['an empty id', { id: '' }],
  ])('When the record has %s, then it is refused', (_what, change) => {
    expect(source.normalize(record({ ...bitcoin(), ...change })).ok).toBe(false);
  });

  test.each([null, 'bitcoin', 42, []])('When the payload is %j instead of an object, then it is refused', (payload) => {
    expect(source.normalize(record(payload)).ok).toBe(false);
  });

  test.each([
    ['bitcoin-cash-cn', 'bch', '比特币现金', 'BCH'],
    ['okocoin', 'ökö', 'Ökocoin', 'ÖKÖ'],
    ['rocket', 'rkt🚀', 'Rocket 🚀', 'RKT🚀'],
  ])('When the coin %s has a Unicode name, then the name is kept and the symbol uppercased', (id, symbol, name, upper) => {
    const outcome = source.normalize(record({ ...bitcoin(), id, symbol, name }));
    expect(outcome).toMatchObject({ ok: true, quote: { sourceAssetId: id, symbol: upper, name } });
  });

  test('When numbers are extreme, then they pass through unchanged', () => {
    const payload = {
      ...bitcoin(),
      current_price: 1e-12,
      market_cap: 9.99e15,
      total_volume: 0,
      price_change_percentage_24h: -99.99999,
    };
    expect(source.normalize(record(payload))).toMatchObject({
      ok: true,
      quote: { priceUsd: 1e-12, marketCapUsd: 9.99e15, volume24hUsd: 0, percentChange24h: -99.99999 },
    });
  });

  test('When last_updated carries an offset instead of Z, then it is read as that instant', () => {
    const outcome = source.normalize(record({ ...bitcoin(), last_updated: '2025-01-10T14:34:56+02:00' }));
    expect(outcome.ok && outcome.quote.sourceUpdatedAt.toISOString()).toBe('2025-01-10T12:34:56.000Z');
  });
});

describe('CoinGecko fetchPage against the market simulator', () => {
  let sim: Simulator;

  beforeAll(async () => {
    sim = await startSimulator({ coins: 40, seed: 42, port: 0 });
  });

  afterEach(() => {
    sim.clearFaults();
    sim.requests.reset();
  });

  afterAll(async () => {
    await sim.close();
  });

  async function allPages(source: Source): Promise<Page[]> {
    const pages: Page[] = [];
    let cursor = await source.startCursor(null);
    for (;;) {
      const page = await source.fetchPage(cursor, CONTEXT);
      pages.push(page);
      if (page.done || pages.length > 100) return pages;
      cursor = page.cursor;
    }
  }

  test('When reading the listing, then the page cursor advances and the short last page is done', async () => {
    const source = coingecko({ COINGECKO_BASE_URL: sim.url, COINGECKO_PAGE_SIZE: '15' });
    const view = sim.market.view();
    expect(view.geckoCount % 15).not.toBe(0);

    const pages = await allPages(source);
    const expected = Math.ceil(view.geckoCount / 15);
    expect(pages).toHaveLength(expected);
    expect(pages.map((p) => p.cursor)).toEqual(Array.from({ length: expected }, (_, i) => ({ page: i + 2 })));
    expect(pages.map((p) => p.done)).toEqual(Array.from({ length: expected }, (_, i) => i === expected - 1));
    pages.forEach((page, i) => {
      expect(page.records.map((r) => r.id)).toEqual(view.geckoPage(i + 1, 15).map((c) => c.id));
    });
    expect(pages[1]?.records[2]?.locator).toBe('page 2 item 2');
    expect(sim.requests.count('/api/v3/coins/markets')).toBe(expected);
  });

  test('When the last page is exactly full, then one more, empty page ends the listing', async () => {
    const count = sim.market.view().geckoCount;
    const pages = await allPages(coingecko({ COINGECKO_BASE_URL: sim.url, COINGECKO_PAGE_SIZE: String(count) }));
    expect(pages.map((p) => [p.records.length, p.done])).toEqual([
      [count, false],
      [0, true],
    ]);
  });

  test('When every simulated coin is normalized, then all of them, nulls and extremes included, are valid quotes', async () => {
    const source = coingecko({ COINGECKO_BASE_URL: sim.url, COINGECKO_PAGE_SIZE: '250' });
    const [page] = await allPages(source);
    const outcomes = page!.records.map((r) => source.normalize(r));
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    const weths = outcomes.flatMap((o) => (o.ok && o.quote.symbol === 'WETH' ? [o.quote.sourceAssetId] : []));
    expect(weths.sort()).toEqual(['l2-standard-bridged-weth-base', 'weth']);
  });

  test('When a run resumes, then an unfinished checkpoint is continued and a finished one starts at page 1', async () => {
    const source = coingecko({ COINGECKO_BASE_URL: sim.url });
    expect(await source.startCursor(null)).toEqual({ page: 1 });
    expect(await source.startCursor({ cursor: { page: 3 }, complete: false })).toEqual({ page: 3 });
    expect(await source.startCursor({ cursor: { page: 3 }, complete: true })).toEqual({ page: 1 });
  });

  test('When a demo key is configured, then it is sent as x-cg-demo-api-key and no pro header is sent', async () => {
    const source = coingecko({ COINGECKO_BASE_URL: sim.url, COINGECKO_API_KEY: 'demo-123' });
    await source.fetchPage({ page: 1 }, CONTEXT);
    expect(sim.lastRequestHeaders?.['x-cg-demo-api-key']).toBe('demo-123');
    expect(sim.lastRequestHeaders?.['x-cg-pro-api-key']).toBeUndefined();
  });

  test('When a pro key is configured, then it is sent as x-cg-pro-api-key and no demo header is sent', async () => {
    const source = coingecko({ COINGECKO_BASE_URL: sim.url, COINGECKO_API_KEY: 'pro-456', COINGECKO_API_PLAN: 'pro' });
    await source.fetchPage({ page: 1 }, CONTEXT);
    expect(sim.lastRequestHeaders?.['x-cg-pro-api-key']).toBe('pro-456');
    expect(sim.lastRequestHeaders?.['x-cg-demo-api-key']).toBeUndefined();
  });

  test('When no key is configured, then no key header is sent', async () => {
    await coingecko({ COINGECKO_BASE_URL: sim.url }).fetchPage({ page: 1 }, CONTEXT);
    expect(sim.lastRequestHeaders?.['x-cg-demo-api-key']).toBeUndefined();
    expect(sim.lastRequestHeaders?.['x-cg-pro-api-key']).toBeUndefined();
  });

  test('When rate limited with Retry-After, then a RateLimitedError carries the delay in milliseconds', async () => {
    sim.setFault({ kind: 'rate-limit', source: 'coingecko', retryAfterSeconds: 7 });
    const failure = coingecko({ COINGECKO_BASE_URL: sim.url }).fetchPage({ page: 1 }, CONTEXT);
    await expect(failure).rejects.toBeInstanceOf(RateLimitedError);
    await expect(failure).rejects.toMatchObject({ retryAfterMs: 7000, retryable: true });
  });

  test('When rate limited without Retry-After, then the RateLimitedError has no delay', async () => {
    sim.setFault({ kind: 'rate-limit', source: 'coingecko' });
    const failure = coingecko({ COINGECKO_BASE_URL: sim.url }).fetchPage({ page: 1 }, CONTEXT);
    await expect(failure).rejects.toBeInstanceOf(RateLimitedError);
    await expect(failure).rejects.toMatchObject({ retryAfterMs: undefined });
  });

  test('When the upstream answers 500, then the failure is UpstreamUnavailableError and the next try succeeds', async () => {
    const source = coingecko({ COINGECKO_BASE_URL: sim.url, COINGECKO_PAGE_SIZE: '5' });
    sim.setFault({ kind: 'server-error', source: 'coingecko' });
    await expect(source.fetchPage({ page: 1 }, CONTEXT)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect((await source.fetchPage({ page: 1 }, CONTEXT)).records).toHaveLength(5);
  });

  test('When nothing answers at the base URL, then the failure is UpstreamUnavailableError naming the URL and the cause', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const failure = coingecko({ COINGECKO_BASE_URL: closed }).fetchPage({ page: 1 }, CONTEXT);
    await expect(failure).rejects.toBeInstanceOf(UpstreamUnavailableError);
    await expect(failure).rejects.toMatchObject({ retryable: true, message: expect.stringContaining(`at ${closed}`) });
    await expect(failure).rejects.toMatchObject({ message: expect.stringContaining('ECONNREFUSED') });
  });

  test('When the path does not exist (404), then the failure is UpstreamRejectedError', async () => {
    const failure = coingecko({ COINGECKO_BASE_URL: `${sim.url}/no-such-api` }).fetchPage({ page: 1 }, CONTEXT);
    await expect(failure).rejects.toBeInstanceOf(UpstreamRejectedError);
    await expect(failure).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('404') });
  });

  test('When the body is cut short, then the failure is UpstreamUnavailableError, to be retried', async () => {
    sim.setFault({ kind: 'truncated', source: 'coingecko' });
    const failure = coingecko({ COINGECKO_BASE_URL: sim.url }).fetchPage({ page: 1 }, CONTEXT);
    await expect(failure).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });

  test('When a field is renamed upstream, then the page still arrives and each record is refused naming the field', async () => {
    sim.setFault({ kind: 'rename-field', source: 'coingecko', field: 'current_price' });
    const source = coingecko({ COINGECKO_BASE_URL: sim.url, COINGECKO_PAGE_SIZE: '5' });
    const page = await source.fetchPage({ page: 1 }, CONTEXT);
    expect(page.records).toHaveLength(5);
    for (const r of page.records) {
      const outcome = source.normalize(r);
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.reason).toMatch(/→ at current_price$/m);
    }
  });

  test('When last_updated goes missing upstream, then each record is refused naming last_updated', async () => {
    sim.setFault({ kind: 'missing-field', source: 'coingecko', field: 'last_updated' });
    const source = coingecko({ COINGECKO_BASE_URL: sim.url, COINGECKO_PAGE_SIZE: '3' });
    const reasons = (await source.fetchPage({ page: 1 }, CONTEXT)).records.map((r) => source.normalize(r));
    expect(reasons).toHaveLength(3);
    for (const outcome of reasons) expect(outcome.ok ? 'accepted' : outcome.reason).toMatch(/→ at last_updated$/m);
  });
});

describe('CoinGecko fetchPage against answers the simulator never gives', () => {
  let stub: StubUpstream;

  beforeAll(async () => {
    stub = await startStubUpstream();
  });

  afterAll(async () => {
    await stub.close();
  });

  test('When one page lists the same id twice, then both records are kept for the loader to deduplicate', async () => {
    const ethereum = { ...fixture('coingecko-market.json'), id: 'ethereum', symbol: 'eth', name: 'Ethereum' };
    const stale = { ...fixture('coingecko-market.json'), current_price: 94000 };
    stub.reply({ body: JSON.stringify([fixture('coingecko-market.json'), ethereum, stale]) });
    const source = coingecko({ COINGECKO_BASE_URL: stub.url });
    const page = await source.fetchPage({ page: 1 }, CONTEXT);
    expect(page.records.map((r) => [r.id, r.locator])).toEqual([
      ['bitcoin', 'page 1 item 0'],
      ['ethereum', 'page 1 item 1'],
      ['bitcoin', 'page 1 item 2'],
    ]);
    const prices = page.records.map((r) => (r.payload as { current_price: number }).current_price);
    expect(prices).toEqual([94123.45, 94123.45, 94000]);
    expect(page.done).toBe(true);
  });

  test('When a record has no usable id, then it is still kept under its position', async () => {
    stub.reply({ body: JSON.stringify([{ symbol: 'x' }, { id: 7 }]) });
    const page = await coingecko({ COINGECKO_BASE_URL: stub.url }).fetchPage({ page: 4 }, CONTEXT);
    expect(page.records.map((r) => r.id)).toEqual(['page-4-item-0', 'page-4-item-1']);
  });

  test('When the request is asked with the configured page size and page, then the query says so', async () => {
    stub.reply({ body: '[]' });
    await coingecko({ COINGECKO_BASE_URL: stub.url, COINGECKO_PAGE_SIZE: '50' }).fetchPage({ page: 3 }, CONTEXT);
    const url = new URL(stub.requests.at(-1)?.path ?? '', stub.url);
    expect(url.pathname).toBe('/api/v3/coins/markets');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      vs_currency: 'usd',
      order: 'market_cap_desc',
      per_page: '50',
      page: '3',
    });
  });

  test('When the upstream answers 400, then the failure is UpstreamRejectedError, not retried', async () => {
    stub.reply({ status: 400, body: '{"error":"invalid vs_currency"}' });
    const failure = coingecko({ COINGECKO_BASE_URL: stub.url }).fetchPage({ page: 1 }, CONTEXT);
    await expect(failure).rejects.toBeInstanceOf(UpstreamRejectedError);
    await expect(failure).rejects.toMatchObject({ retryable: false });
  });

  test('When the upstream answers 429 with an HTTP-date Retry-After, then the delay is the time until that date', async () => {
    const at = new Date(Date.now() + 120_000);
    stub.reply({ status: 429, headers: { 'retry-after': at.toUTCString() }, body: '{}' });
    const failure = coingecko({ COINGECKO_BASE_URL: stub.url }).fetchPage({ page: 1 }, CONTEXT);
    await expect(failure).rejects.toBeInstanceOf(RateLimitedError);
    const error = (await failure.catch((e: unknown) => e)) as RateLimitedError;
    expect(error.retryAfterMs).toBeGreaterThan(100_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  test.each([
    ['an object', '{"status":{"error_code":10002,"error_message":"API Key Missing"}}'],
    ['null', 'null'],
    ['a string', '"bitcoin"'],
  ])('When a 200 body is %s instead of an array, then the failure is InvalidPayloadError', async (_what, body) => {
    stub.reply({ body });
    const failure = coingecko({ COINGECKO_BASE_URL: stub.url }).fetchPage({ page: 1 }, CONTEXT);
    await expect(failure).rejects.toBeInstanceOf(InvalidPayloadError);
    await expect(failure).rejects.toMatchObject({ retryable: false });
  });
});

describe('CoinGecko hosts', () => {
  let fetchSpy: jest.SpiedFunction<typeof fetch>;

  beforeEach(() => {
    fetchSpy = jest.spyOn(globalThis, 'fetch').mockImplementation(async () => new Response('[]', { status: 200 }));
  });

  afterEach(() => {
    fetchSpy.mockRestore();
  });

  function lastRequest(): Request {
    const [input] = fetchSpy.mock.calls.at(-1) ?? [];
    if (!(input instanceof Request)) throw new Error('ky sent no Request');
    return input;
  }

  test('When no base URL is set and the plan is demo, then the public host gets the demo key header', async () => {
    await coingecko({ COINGECKO_API_KEY: 'demo-123' }).fetchPage({ page: 1 }, CONTEXT);
    const request = lastRequest();
    expect(request.url.startsWith('https://api.coingecko.com/api/v3/coins/markets?')).toBe(true);
    expect(request.headers.get('x-cg-demo-api-key')).toBe('demo-123');
    expect(request.headers.get('x-cg-pro-api-key')).toBeNull();
  });

  test('When no base URL is set and the plan is pro, then the pro host gets the pro key header', async () => {
    await coingecko({ COINGECKO_API_KEY: 'pro-456', COINGECKO_API_PLAN: 'pro' }).fetchPage({ page: 1 }, CONTEXT);
    const request = lastRequest();
    expect(request.url.startsWith('https://pro-api.coingecko.com/api/v3/coins/markets?')).toBe(true);
    expect(request.headers.get('x-cg-pro-api-key')).toBe('pro-456');
    expect(request.headers.get('x-cg-demo-api-key')).toBeNull();
  });
});
