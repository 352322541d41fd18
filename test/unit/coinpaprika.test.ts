import { loadConfig } from '../../src/config';
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

const TICKERS = '/v1/tickers';

function coinpaprika(env: Record<string, string>): Source {
  const config = loadConfig({ COINPAPRIKA_RATE_LIMIT_PER_MIN: '100000', ...env });
  return sourceNamed(createSources(config.sources), 'coinpaprika');
}

function record(payload: unknown): SourceRecord {
  return { id: 'btc-bitcoin', payload, locator: 'item 0' };
}

interface Ticker extends Record<string, unknown> {
  quotes: { USD: Record<string, unknown> };
}

const bitcoin = (): Ticker => fixture<Ticker>('coinpaprika-ticker.json');

function withUsd(change: Record<string, unknown>): Ticker {
  const ticker = bitcoin();
  return { ...ticker, quotes: { USD: { ...ticker.quotes.USD, ...change } } };
}

describe('CoinPaprika normalize', () => {
  const source = coinpaprika({});

  test('When a full /v1/tickers record arrives, then it maps field for field onto the quote', () => {
    expect(source.normalize(record(bitcoin()))).toEqual({
      ok: true,
      quote: {
        sourceAssetId: 'btc-bitcoin',
        symbol: 'BTC',
        name: 'Bitcoin',
        priceUsd: 94123.45,
        marketCapUsd: 1864523456789,
        volume24hUsd: 35123456789.12,
        percentChange24h: -0.54,
        rank: 1,
        sourceUpdatedAt: new Date('2025-01-10T12:34:56Z'),
      },
    });
  });

  test('When the rank is 0, then the coin is unranked: rank null', () => {
    expect(source.normalize(record({ ...bitcoin(), rank: 0 }))).toMatchObject({ ok: true, quote: { rank: null } });
  });

  test('When the ticker has no circulating_supply and max_supply 0, as 2024+ payloads do, then it is valid', () => {
    const ticker = { ...bitcoin(), max_supply: 0 };
    expect(ticker).not.toHaveProperty('circulating_supply');
    expect(source.normalize(record(ticker))).toMatchObject({ ok: true, quote: { sourceAssetId: 'btc-bitcoin' } });
  });

  test('When optional USD fields are null, then the quote has nulls there', () => {
    const outcome = source.normalize(record(withUsd({ market_cap: null, volume_24h: null, percent_change_24h: null })));
    expect(outcome).toMatchObject({
      ok: true,
      quote: { marketCapUsd: null, volume24hUsd: null, percentChange24h: null },
    });
  });

  test('When optional USD fields are empty strings, then the quote loads with nulls there, not quarantined', () => {
    const outcome = source.normalize(record(withUsd({ market_cap: '', volume_24h: '', percent_change_24h: '' })));
    expect(outcome).toMatchObject({ ok: true, quote: { marketCapUsd: null, volume24hUsd: null, percentChange24h: null } });
  });

  test('When the market cap is 0, CoinPaprika’s way of saying it has none, then it is stored as unknown', () => {
    const outcome = source.normalize(record(withUsd({ market_cap: 0, volume_24h: 0 })));
    // Volume 0 is a real figure (nothing traded); only the market cap's 0 means "unknown".
    expect(outcome).toMatchObject({ ok: true, quote: { marketCapUsd: null, volume24hUsd: 0 } });
  });

  test('When optional USD fields are absent, then the quote has nulls there', () => {
    const { market_cap: _cap, volume_24h: _volume, percent_change_24h: _change, ...usd } = bitcoin().quotes.USD;
    const outcome = source.normalize(record({ ...bitcoin(), quotes: { USD: usd } }));
    expect(outcome).toMatchObject({ ok: true, quote: { priceUsd: 94123.45, marketCapUsd: null, volume24hUsd: null } });
  });

  test('When quotes.USD.price is missing, then the record is refused with a reason naming quotes.USD.price', () => {
    const { price: _price, ...usd } = bitcoin().quotes.USD;
    const outcome = source.normalize(record({ ...bitcoin(), quotes: { USD: usd } }));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.reason).toMatch(/→ at quotes\.USD\.price$/m);
  });

  test.each(['last_updated', 'rank', 'id', 'symbol', 'name', 'quotes'])(
    'When the required field %s is missing, then the record is refused with a reason naming it',
    (field) => {
      const payload: Record<string, unknown> = bitcoin();
      delete payload[field];
      const outcome = source.normalize(record(payload));
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.reason).toMatch(new RegExp(`→ at ${field}$`, 'm'));
    },
  );

  test('When there is no USD quote, then the record is refused naming quotes.USD', () => {
    const outcome = source.normalize(record({ ...bitcoin(), quotes: { EUR: bitcoin().quotes.USD } }));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.reason).toMatch(/→ at quotes\.USD$/m);
  });

  test.each([
    ['a negative rank', { rank: -1 }],
    ['a null rank', { rank: null }],
    ['a date that is not ISO 8601', { last_updated: 'Fri, 10 Jan 2025 12:34:56 GMT' }],
    ['an empty symbol', { symbol: '  ' }],
    ['a price of null', { quotes: { USD: { price: null } } }],
    ['a negative price', { quotes: { USD: { price: -0.5 } } }],
  ])('When the ticker has %s, then it is refused', (_what, change) => {
    expect(source.normalize(record({ ...bitcoin(), ...change })).ok).toBe(false);
  });

  test.each([
    ['bch-bitcoin-cash-cn', 'bch', '比特币现金', 'BCH'],
    ['oko-okocoin', 'ökö', 'Ökocoin', 'ÖKÖ'],
    ['dogi-dogecoin-kr', 'dogi', '도지코인', 'DOGI'],
  ])('When the ticker %s has a Unicode name, then the name is kept and the symbol uppercased', (id, symbol, name, upper) => {
    const outcome = source.normalize(record({ ...bitcoin(), id, symbol, name }));
    expect(outcome).toMatchObject({ ok: true, quote: { sourceAssetId: id, symbol: upper, name } });
  });

  test('When numbers are extreme, then they pass through unchanged', () => {
    const outcome = source.normalize(
      record(withUsd({ price: 1e-12, market_cap: 9.99e15, volume_24h: 0, percent_change_24h: 12345.67 })),
    );
    expect(outcome).toMatchObject({
      ok: true,
      quote: { priceUsd: 1e-12, marketCapUsd: 9.99e15, volume24hUsd: 0, percentChange24h: 12345.67 },
    });
  });
});

describe('CoinPaprika fetchPage against the market simulator', () => {
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

  async function allPages(source: Source, runId: string): Promise<Page[]> {
    const pages: Page[] = [];
    let cursor = await source.startCursor(null);
    for (;;) {
      const page = await source.fetchPage(cursor, { runId });
      pages.push(page);
      if (page.done || pages.length > 100) return pages;
      cursor = page.cursor;
    }
  }

  test('When a run reads the tickers in batches, then it fetches them once and slices that one snapshot', async () => {
    const source = coinpaprika({ COINPAPRIKA_BASE_URL: sim.url, COINPAPRIKA_PAGE_SIZE: '10' });
    // As the wire has it (JSON has no -0).
    const expected = JSON.parse(JSON.stringify([...sim.market.view().paprikaTickers()])) as { id: string }[];
    expect(expected.length % 10).not.toBe(0);

    const first = await source.fetchPage(await source.startCursor(null), { runId: 'run-1' });
    sim.tick(5); // the market moves on; the run keeps reading the snapshot it started with
    const pages = [first, ...(await allPages(source, 'run-1')).slice(1)];

    const batches = Math.ceil(expected.length / 10);
    expect(pages).toHaveLength(batches);
    expect(pages.map((p) => p.cursor)).toEqual(
      Array.from({ length: batches }, (_, i) => ({ offset: Math.min(expected.length, (i + 1) * 10) })),
    );
    expect(pages.map((p) => p.done)).toEqual(Array.from({ length: batches }, (_, i) => i === batches - 1));
    expect(pages.flatMap((p) => p.records.map((r) => r.payload))).toEqual(expected);
    expect(pages[1]?.records[0]).toMatchObject({ id: expected[10]?.id, locator: 'item 10' });
    expect(sim.requests.count(TICKERS)).toBe(1);
  });

  test('When a new run starts, then it takes a fresh snapshot', async () => {
    const source = coinpaprika({ COINPAPRIKA_BASE_URL: sim.url, COINPAPRIKA_PAGE_SIZE: '10' });
    await source.fetchPage({ offset: 0 }, { runId: 'run-a' });
    await source.fetchPage({ offset: 0 }, { runId: 'run-b' });
    expect(sim.requests.count(TICKERS)).toBe(2);
  });

  test('When every simulated ticker is normalized, then all of them are valid quotes and unranked ones have rank null', async () => {
    const source = coinpaprika({ COINPAPRIKA_BASE_URL: sim.url });
    const [page] = await allPages(source, 'run-all');
    const outcomes = page!.records.map((r) => source.normalize(r));
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    const zeroRanked = page!.records.filter((r) => (r.payload as { rank: number }).rank === 0).length;
    const nullRanked = outcomes.filter((o) => o.ok && o.quote.rank === null).length;
    expect(nullRanked).toBe(zeroRanked);
  });

  test('When a run resumes, then an unfinished checkpoint is continued and a finished one starts at offset 0', async () => {
    const source = coinpaprika({ COINPAPRIKA_BASE_URL: sim.url });
    expect(await source.startCursor(null)).toEqual({ offset: 0 });
    expect(await source.startCursor({ cursor: { offset: 20 }, complete: false })).toEqual({ offset: 20 });
    expect(await source.startCursor({ cursor: { offset: 20 }, complete: true })).toEqual({ offset: 0 });
  });

  test('When an API key is configured, then it is sent as Authorization', async () => {
    await coinpaprika({ COINPAPRIKA_BASE_URL: sim.url, COINPAPRIKA_API_KEY: 'paprika-key' }).fetchPage(
      { offset: 0 },
      { runId: 'run-key' },
    );
    expect(sim.lastRequestHeaders?.authorization).toBe('paprika-key');
  });

  test('When rate limited with Retry-After, then a RateLimitedError carries the delay in milliseconds', async () => {
    sim.setFault({ kind: 'rate-limit', source: 'coinpaprika', retryAfterSeconds: 30 });
    const failure = coinpaprika({ COINPAPRIKA_BASE_URL: sim.url }).fetchPage({ offset: 0 }, { runId: 'run-429' });
    await expect(failure).rejects.toBeInstanceOf(RateLimitedError);
    await expect(failure).rejects.toMatchObject({ retryAfterMs: 30_000 });
  });

  test('When the upstream answers 500, then the failure is UpstreamUnavailableError and a retry of the batch succeeds', async () => {
    const source = coinpaprika({ COINPAPRIKA_BASE_URL: sim.url, COINPAPRIKA_PAGE_SIZE: '10' });
    sim.setFault({ kind: 'server-error', source: 'coinpaprika' });
    const failure = source.fetchPage({ offset: 0 }, { runId: 'run-500' });
    await expect(failure).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect((await source.fetchPage({ offset: 0 }, { runId: 'run-500' })).records).toHaveLength(10);
  });

  test('When the path does not exist (404), then the failure is UpstreamRejectedError', async () => {
    const source = coinpaprika({ COINPAPRIKA_BASE_URL: `${sim.url}/v2` });
    const failure = source.fetchPage({ offset: 0 }, { runId: 'run-404' });
    await expect(failure).rejects.toBeInstanceOf(UpstreamRejectedError);
  });

  test('When the body is cut short, then the failure is UpstreamUnavailableError', async () => {
    sim.setFault({ kind: 'truncated', source: 'coinpaprika' });
    const failure = coinpaprika({ COINPAPRIKA_BASE_URL: sim.url }).fetchPage({ offset: 0 }, { runId: 'run-cut' });
    await expect(failure).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });

  test('When the nested price goes missing upstream, then each ticker is refused naming quotes.USD.price', async () => {
    sim.setFault({ kind: 'missing-field', source: 'coinpaprika', field: 'quotes.USD.price' });
    const source = coinpaprika({ COINPAPRIKA_BASE_URL: sim.url, COINPAPRIKA_PAGE_SIZE: '5' });
    const page = await source.fetchPage({ offset: 0 }, { runId: 'run-drift' });
    expect(page.records).toHaveLength(5);
    for (const r of page.records) {
      const outcome = source.normalize(r);
      expect(outcome.ok ? 'accepted' : outcome.reason).toMatch(/→ at quotes\.USD\.price$/m);
    }
  });
});

describe('CoinPaprika fetchPage against answers the simulator never gives', () => {
  let stub: StubUpstream;

  beforeAll(async () => {
    stub = await startStubUpstream();
  });

  afterAll(async () => {
    await stub.close();
  });

  test('When the snapshot lists the same id twice, then both records are kept for the loader to deduplicate', async () => {
    const eth = { ...bitcoin(), id: 'eth-ethereum', symbol: 'ETH', name: 'Ethereum', rank: 2 };
    stub.reply({ body: JSON.stringify([bitcoin(), eth, bitcoin()]) });
    const page = await coinpaprika({ COINPAPRIKA_BASE_URL: stub.url }).fetchPage({ offset: 0 }, { runId: 'run-dup' });
    expect(page.records.map((r) => [r.id, r.locator])).toEqual([
      ['btc-bitcoin', 'item 0'],
      ['eth-ethereum', 'item 1'],
      ['btc-bitcoin', 'item 2'],
    ]);
    expect(page).toMatchObject({ cursor: { offset: 3 }, done: true });
  });

  test('When the upstream has no tickers, then the first batch is empty and done', async () => {
    stub.reply({ body: '[]' });
    const page = await coinpaprika({ COINPAPRIKA_BASE_URL: stub.url }).fetchPage({ offset: 0 }, { runId: 'run-empty' });
    expect(page).toEqual({ records: [], cursor: { offset: 0 }, done: true });
  });

  test('When the upstream answers 400, then the failure is UpstreamRejectedError', async () => {
    stub.reply({ status: 400, body: '{"error":"bad request"}' });
    const failure = coinpaprika({ COINPAPRIKA_BASE_URL: stub.url }).fetchPage({ offset: 0 }, { runId: 'run-400' });
    await expect(failure).rejects.toBeInstanceOf(UpstreamRejectedError);
  });

  test('When a 200 body is not an array, then the failure is InvalidPayloadError', async () => {
    stub.reply({ body: '{"error":"id not found"}' });
    const failure = coinpaprika({ COINPAPRIKA_BASE_URL: stub.url }).fetchPage({ offset: 0 }, { runId: 'run-object' });
    await expect(failure).rejects.toBeInstanceOf(InvalidPayloadError);
  });
});
