import { readdirSync } from 'node:fs';
import { appendFile, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { normalizeHeader } from '../../src/contracts/contract';
import type { NormalizedQuote } from '../../src/schemas/quote';
import { InvalidPayloadError, UpstreamUnavailableError } from '../../src/shared/errors';
import type { Cursor } from '../../src/shared/types';
import { createSources, sourceNamed } from '../../src/sources';
import { parseTimestamp } from '../../src/sources/csv';
import type { Page, Source, SourceRecord } from '../../src/sources/types';

const HEADER = 'id,symbol,name,price_usd,market_cap_usd,volume_24h_usd,percent_change_24h,rank,last_updated';
const AT = '2026-01-01T00:00:00Z';
const CONTEXT = { runId: 'csv-test-run' };

let dir: string;
let files = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kasparro-csv-unit-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function csvFile(content: string | Buffer): Promise<string> {
  const path = join(dir, `coins-${++files}.csv`);
  await writeFile(path, content);
  return path;
}

function csvSource(path: string, pageSize = 100): Source {
  const config = loadConfig({ CSV_PATH: path, CSV_PAGE_SIZE: String(pageSize) });
  return sourceNamed(createSources(config.sources), 'csv');
}

/** `n` well-formed rows, coin-1 … coin-n. */
function rows(n: number, from = 1): string {
  return Array.from({ length: n }, (_, i) => from + i)
    .map((k) => `coin-${k},C${k},Coin ${k},${k}.5,,,,,${AT}\n`)
    .join('');
}

/** Every page from `cursor` to the end. */
async function readAll(source: Source, cursor: Cursor): Promise<Page[]> {
  const pages: Page[] = [];
  for (;;) {
    const page = await source.fetchPage(pages.at(-1)?.cursor ?? cursor, CONTEXT);
    pages.push(page);
    if (page.done) return pages;
    if (pages.length > 1000) throw new Error('the source never reported done');
  }
}

async function readFile(source: Source): Promise<SourceRecord[]> {
  return (await readAll(source, await source.startCursor(null))).flatMap((p) => p.records);
}

function quote(source: Source, record: SourceRecord | undefined): NormalizedQuote {
  if (!record) throw new Error('no such record');
  const outcome = source.normalize(record);
  if (!outcome.ok) throw new Error(`expected ${record.locator} to normalize, got: ${outcome.reason}`);
  return outcome.quote;
}

function rejection(source: Source, record: SourceRecord | undefined): string {
  if (!record) throw new Error('no such record');
  const outcome = source.normalize(record);
  if (outcome.ok) throw new Error(`expected ${record.locator} to be rejected`);
  return outcome.reason;
}

const locators = (records: SourceRecord[]): string[] => records.map((r) => r.locator);
const ids = (records: SourceRecord[]): string[] => records.map((r) => r.id);

describe('CSV source: reading', () => {
  test('When a well-formed row is read, then it normalizes to every field of the quote', async () => {
    const path = await csvFile(`${HEADER}\nbtc,btc,Bitcoin,64000.5,1.2T,35B,-1.25,1,2026-01-01T12:30:00Z\n`);
    const source = csvSource(path);
    const [record] = await readFile(source);
    expect(record).toMatchObject({ id: 'btc', locator: 'line 2' });
    expect(quote(source, record)).toEqual({
      sourceAssetId: 'btc',
      symbol: 'BTC',
      name: 'Bitcoin',
      priceUsd: 64000.5,
      marketCapUsd: 1.2e12,
      volume24hUsd: 35e9,
      percentChange24h: -1.25,
      rank: 1,
      sourceUpdatedAt: new Date('2026-01-01T12:30:00Z'),
    });
  });

  test('When the file has a BOM and CRLF line ends, then the first header is clean and no cell keeps a CR', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const text = `id,symbol,name,price_usd,last_updated\r\nbtc,BTC,Bitcoin,1,${AT}\r\neth,ETH,Ether,2,${AT}\r\n`;
    const path = await csvFile(Buffer.concat([bom, Buffer.from(text)]));
    const source = csvSource(path);
    const records = await readFile(source);
    expect(records.map((r) => r.payload)).toEqual([
      { id: 'btc', symbol: 'BTC', name: 'Bitcoin', price_usd: '1', last_updated: AT },
      { id: 'eth', symbol: 'ETH', name: 'Ether', price_usd: '2', last_updated: AT },
    ]);
    expect(locators(records)).toEqual(['line 2', 'line 3']);
    expect(quote(source, records[1])).toMatchObject({ sourceAssetId: 'eth', priceUsd: 2 });
  });

  test('When quoted cells hold commas, quotes and line breaks, then they stay one cell and later lines still count right', async () => {
    const path = await csvFile(
      `${HEADER}\n` +
        `acme,ACME,"Acme, Inc.",1,,,,,${AT}\n` +
        `multi,MULTI,"Two\nLine ""Coin""",2,,,,,${AT}\n` +
        `crlf,CRLF,"Windows\r\nBreak",3,,,,,${AT}\n` +
        `after,AFTER,After,4,,,,,${AT}\n`,
    );
    const source = csvSource(path);
    const records = await readFile(source);
    expect(records.map((r) => (r.payload as { name: string }).name)).toEqual([
      'Acme, Inc.',
      'Two\nLine "Coin"',
      'Windows\r\nBreak',
      'After',
    ]);
    // A row is located where it starts; the rows after a multi-line cell are where an editor shows them.
    expect(locators(records)).toEqual(['line 2', 'line 3', 'line 5', 'line 7']);
    const after = records[3]!;
    const broken = { ...after, payload: { ...(after.payload as object), price_usd: 'oops' } };
    expect(rejection(source, broken)).toMatch(/^line 7: /);
  });

  test('When the price is NaN, then the row is quarantined with a reason that says NaN, not "missing"', async () => {
    const path = await csvFile(`${HEADER}\na,AAA,Alpha,NaN,,,,,${AT}\nb,BBB,Beta,,,,,,${AT}\n`);
    const source = csvSource(path);
    const [nan, blank] = await readFile(source);
    expect(rejection(source, nan)).toBe('line 2: price: the value was NaN');
    expect(rejection(source, blank)).toBe('line 3: price: missing');
  });

  test('When cells use spreadsheet number spellings, then they are parsed and blanks or NaN become null', async () => {
    const path = await csvFile(
      `${HEADER}\n` +
        `a,AAA,Alpha,"$1,234.50",1.7T,,NaN,12,${AT}\n` +
        `b,BBB,Beta,0.000000000001,n/a,"(1,000)",12%,,${AT}\n`,
    );
    const source = csvSource(path);
    const [alpha, beta] = await readFile(source);
    expect(quote(source, alpha)).toMatchObject({
      priceUsd: 1234.5,
      marketCapUsd: 1.7e12,
      volume24hUsd: null,
      percentChange24h: null,
      rank: 12,
    });
    // A negative volume is not a valid quote: the schema refuses it, with the line.
    expect(rejection(source, beta)).toMatch(/^line 3: [\s\S]*volume24hUsd/);
  });

  test('When the rank is 0, then the coin is unranked; a negative rank is refused', async () => {
    const path = await csvFile(`${HEADER}\nzero,ZRO,Zero,1,,,,0,${AT}\nneg,NEG,Negative,1,,,,-3,${AT}\n`);
    const source = csvSource(path);
    const [zero, negative] = await readFile(source);
    expect(quote(source, zero).rank).toBeNull();
    expect(rejection(source, negative)).toMatch(/^line 3: [\s\S]*rank/);
  });

  test('When a row has more cells than the header, then the extra cells are kept under _extra', async () => {
    const path = await csvFile(`id,symbol,name,price_usd,last_updated\nbtc,BTC,Bitcoin,1,${AT},surplus,"more, text"\n`);
    const source = csvSource(path);
    const [record] = await readFile(source);
    expect(record?.payload).toEqual({
      id: 'btc',
      symbol: 'BTC',
      name: 'Bitcoin',
      price_usd: '1',
      last_updated: AT,
      _extra: ['surplus', 'more, text'],
    });
    expect(quote(source, record)).toMatchObject({ sourceAssetId: 'btc', priceUsd: 1 });
  });

  test('When a row is shorter than the header, then the missing cells are null and only a missing price is an error', async () => {
    const path = await csvFile(
      `id,symbol,name,last_updated,price_usd,market_cap_usd,rank\nbtc,BTC,Bitcoin,${AT},1\neth,ETH,Ether,${AT}\n`,
    );
    const source = csvSource(path);
    const [short, shorter] = await readFile(source);
    expect(short?.payload).toEqual({
      id: 'btc',
      symbol: 'BTC',
      name: 'Bitcoin',
      last_updated: AT,
      price_usd: '1',
      market_cap_usd: null,
      rank: null,
    });
    expect(quote(source, short)).toMatchObject({ priceUsd: 1, marketCapUsd: null, rank: null });
    expect(rejection(source, shorter)).toBe('line 3: price: missing');
  });

  test('When headers are spelled like a spreadsheet export, then their aliases are recognised', async () => {
    const path = await csvFile(
      'Coin ID,Symbol,Coin,Price (USD),Market Cap,24h Volume,Change 24h (%),Market Cap Rank,Last Updated\n' +
        `sol,sol,Solana,"$190.25",$92B,4.1B,+3.5%,5,2026-01-01 08:00:00\n`,
    );
    const source = csvSource(path);
    const [record] = await readFile(source);
    expect(record?.id).toBe('sol');
    expect(quote(source, record)).toEqual({
      sourceAssetId: 'sol',
      symbol: 'SOL',
      name: 'Solana',
      priceUsd: 190.25,
      marketCapUsd: 92e9,
      volume24hUsd: 4.1e9,
      percentChange24h: 3.5,
      rank: 5,
      sourceUpdatedAt: new Date('2026-01-01T08:00:00Z'),
    });
  });

  test('When header cells are normalized, then case, spaces, symbols and punctuation collapse to snake_case', () => {
    expect(normalizeHeader('Price (USD)')).toBe('price_usd');
    expect(normalizeHeader('  Market Cap ')).toBe('market_cap');
    expect(normalizeHeader('Symbol')).toBe('symbol');
    expect(normalizeHeader('24h Change %')).toBe('24h_change');
    expect(normalizeHeader('Rank #')).toBe('rank');
    expect(normalizeHeader('last-updated')).toBe('last_updated');
  });

  test('When there is no id column, then a row is known by symbol and name, or else by its line', async () => {
    const path = await csvFile(`symbol,name,price,date\nBTC,Bitcoin,1,2026-01-01\n,Nameless,2,2026-01-01\n`);
    const source = csvSource(path);
    const records = await readFile(source);
    expect(ids(records)).toEqual(['btc:bitcoin', 'line-3']);
    expect(quote(source, records[0])).toMatchObject({ sourceAssetId: 'btc:bitcoin', symbol: 'BTC' });
  });

  test('When blank and all-empty lines sit between rows, then they are skipped and the line numbers still match the file', async () => {
    const path = await csvFile(`\n${HEADER}\n\n${rows(1)}\n\n,,,,,,,,\n${rows(1, 2)}   \n${rows(1, 3)}\n`);
    const records = await readFile(csvSource(path));
    expect(ids(records)).toEqual(['coin-1', 'coin-2', 'coin-3']);
    expect(locators(records)).toEqual(['line 4', 'line 8', 'line 10']);
  });

  test('When rows are bad, then normalize refuses each with its line and what is wrong', async () => {
    const path = await csvFile(
      `${HEADER}\n` +
        rows(1) +
        `bad-price,BAD,Bad Price,abc,,,,,${AT}\n` +
        `bad-date,BAD,Bad Date,1,,,,,yesterday\n` +
        `no-price,NOP,No Price,,,,,,${AT}\n` +
        `negative,NEG,Negative,(5),,,,,${AT}\n` +
        `no-name,NON,,1,,,,,${AT}\n` +
        `bad-cap,CAP,Bad Cap,1,lots,,,,${AT}\n`,
    );
    const source = csvSource(path);
    const [good, ...bad] = await readFile(source);
    expect(quote(source, good).sourceAssetId).toBe('coin-1');
    const reasons = bad.map((record) => rejection(source, record));
    expect(reasons[0]).toBe('line 3: price: "abc" is not a number');
    expect(reasons[1]).toBe('line 4: last_updated: "yesterday" is not a date');
    expect(reasons[2]).toBe('line 5: price: missing');
    expect(reasons[3]).toMatch(/^line 6: [\s\S]*priceUsd/);
    expect(reasons[4]).toMatch(/^line 7: [\s\S]*name/);
    expect(reasons[5]).toBe('line 8: marketCap: "lots" is not a number');
  });

  test('When names are Unicode, then they survive and byte offsets stay right across pages', async () => {
    const path = await csvFile(
      `${HEADER}\nbch,BCH,比特币现金,1,,,,,${AT}\noko,oko,Ökocoin,2,,,,,${AT}\nrkt,RKT,Rocket 🚀,3,,,,,${AT}\n`,
    );
    const source = csvSource(path, 1);
    const records = (await readAll(source, await source.startCursor(null))).flatMap((p) => p.records);
    expect(records.map((r) => quote(source, r).name)).toEqual(['比特币现金', 'Ökocoin', 'Rocket 🚀']);
    expect(quote(source, records[1]).symbol).toBe('OKO');
    expect(locators(records)).toEqual(['line 2', 'line 3', 'line 4']);
  });
});

describe('CSV source: timestamps', () => {
  test.each([
    ['2026-01-01T12:00:00Z', '2026-01-01T12:00:00.000Z'],
    ['2026-01-01T12:00:00.123Z', '2026-01-01T12:00:00.123Z'],
    ['2026-01-01T14:00:00+02:00', '2026-01-01T12:00:00.000Z'],
    ['2026-01-01 12:00:00', '2026-01-01T12:00:00.000Z'],
    ['2026-01-01T12:00', '2026-01-01T12:00:00.000Z'],
    ['2026-01-01', '2026-01-01T00:00:00.000Z'],
    ['1767268800', '2026-01-01T12:00:00.000Z'],
    ['1767268800000', '2026-01-01T12:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
  ])('When the time is written %j, then it is read as %s', (text, iso) => {
    expect(parseTimestamp(text)?.toISOString()).toBe(iso);
  });

  const notDates = [undefined, '', 'yesterday', '01/02/2026', '12345', '2026-13-45', '2026-00-10', '2026-02-29', '2026-04-31 10:00'];
  test.each(notDates)(
    'When the time is %j, then it is not a date (an impossible day does not roll over into the next month)',
    (text) => {
      expect(parseTimestamp(text)).toBeUndefined();
    },
  );
});

describe('CSV source: paging and resuming', () => {
  test('When a file has more rows than a page, then pages of N rows chain their cursors and only the last is done', async () => {
    const path = await csvFile(`${HEADER}\n${rows(7)}`);
    const source = csvSource(path, 3);
    const start = await source.startCursor(null);
    expect(start).toMatchObject({ offset: 0, line: 0, header: null });

    const first = await source.fetchPage(start, CONTEXT);
    const second = await source.fetchPage(first.cursor, CONTEXT);
    const third = await source.fetchPage(second.cursor, CONTEXT);
    expect([first, second, third].map((p) => ids(p.records))).toEqual([
      ['coin-1', 'coin-2', 'coin-3'],
      ['coin-4', 'coin-5', 'coin-6'],
      ['coin-7'],
    ]);
    expect([first, second, third].map((p) => p.done)).toEqual([false, false, true]);
    expect(locators(third.records)).toEqual(['line 8']);
    expect(first.cursor).toMatchObject({ line: 4, header: HEADER.split(',') });
    expect((second.cursor as { offset: number }).offset).toBeGreaterThan((first.cursor as { offset: number }).offset);
  });

  test('When the rows fill the last page exactly, then that page is done and nothing is read twice', async () => {
    const path = await csvFile(`${HEADER}\n${rows(6)}`);
    const pages = await readAll(csvSource(path, 3), { offset: 0, line: 0, header: null, fingerprint: '' });
    expect(pages.map((p) => p.records.length)).toEqual([3, 3]);
    expect(pages.map((p) => p.done)).toEqual([false, true]);
  });

  test('When a run resumes mid-file from its saved cursor, then it reads the rest with the right line numbers', async () => {
    const path = await csvFile(`${HEADER}\n${rows(2)}\nx,X,"Line\nBreak",1,,,,,${AT}\n${rows(4, 3)}`);
    const reader = csvSource(path, 3);
    const first = await reader.fetchPage(await reader.startCursor(null), CONTEXT);
    expect(locators(first.records)).toEqual(['line 2', 'line 3', 'line 5']);

    // A new worker, the saved checkpoint of an unfinished run.
    const resumed = csvSource(path, 3);
    const cursor = await resumed.startCursor({ cursor: first.cursor, complete: false });
    expect(cursor).toEqual(first.cursor);
    const rest = (await readAll(resumed, cursor)).flatMap((p) => p.records);
    expect(ids(rest)).toEqual(['coin-3', 'coin-4', 'coin-5', 'coin-6']);
    expect(locators(rest)).toEqual(['line 7', 'line 8', 'line 9', 'line 10']);
    expect(rejection(resumed, { ...rest[2]!, payload: { ...(rest[2]!.payload as object), price_usd: '?!' } })).toMatch(
      /^line 9: price/,
    );
  });

  test('When a finished run is followed by a new one on the same file, then the new one reads no rows and is done', async () => {
    const path = await csvFile(`${HEADER}\n${rows(4)}`);
    const source = csvSource(path, 3);
    const last = (await readAll(source, await source.startCursor(null))).at(-1)!;
    const cursor = await source.startCursor({ cursor: last.cursor, complete: true });
    const page = await source.fetchPage(cursor, CONTEXT);
    expect(page.records).toEqual([]);
    expect(page.done).toBe(true);
    expect(page.cursor).toEqual(last.cursor);
  });

  test('When rows are appended after a finished run, then the next run reads only the new rows', async () => {
    const path = await csvFile(`${HEADER}\n${rows(4)}`);
    const source = csvSource(path, 3);
    const last = (await readAll(source, await source.startCursor(null))).at(-1)!;
    await appendFile(path, `\n${rows(2, 5)}`);

    const next = (await readAll(source, await source.startCursor({ cursor: last.cursor, complete: true }))).flatMap(
      (p) => p.records,
    );
    expect(ids(next)).toEqual(['coin-5', 'coin-6']);
    expect(locators(next)).toEqual(['line 7', 'line 8']);
  });

  test('When the file lacked a final line break and rows are appended after one, then they are read alone at their lines', async () => {
    const path = await csvFile(`${HEADER}\n${rows(2).trimEnd()}`);
    const source = csvSource(path);
    const last = (await readAll(source, await source.startCursor(null))).at(-1)!;
    expect(locators(last.records)).toEqual(['line 2', 'line 3']);
    await appendFile(path, `\n${rows(1, 3)}`);

    const next = (await readAll(source, await source.startCursor({ cursor: last.cursor, complete: true }))).flatMap(
      (p) => p.records,
    );
    expect(ids(next)).toEqual(['coin-3']);
    expect(locators(next)).toEqual(['line 4']);
  });

  test('When the file is replaced by different content, then the next run reads it whole from the top', async () => {
    const path = await csvFile(`${HEADER}\n${rows(3)}`);
    const source = csvSource(path);
    const last = (await readAll(source, await source.startCursor(null))).at(-1)!;
    // Same length, different prices: not the file that was read.
    await writeFile(path, `${HEADER}\n${rows(3).replace('1.5', '9.5')}`);

    const cursor = await source.startCursor({ cursor: last.cursor, complete: true });
    expect(cursor).toMatchObject({ offset: 0, line: 0, header: null });
    const records = (await readAll(source, cursor)).flatMap((p) => p.records);
    expect(ids(records)).toEqual(['coin-1', 'coin-2', 'coin-3']);
    expect(quote(source, records[0]).priceUsd).toBe(9.5);
  });

  test('When the file is replaced in the middle of a run, then the next page reads the new file from its top', async () => {
    const path = await csvFile(`${HEADER}\n${rows(6)}`);
    const source = csvSource(path, 2);
    const first = await source.fetchPage(await source.startCursor(null), CONTEXT);
    expect(ids(first.records)).toEqual(['coin-1', 'coin-2']);
    // Same length and header, other rows: the offset after coin-2 would land mid-way through the new file.
    await writeFile(path, `${HEADER}\n${rows(6, 11).replace(/coin-1(\d)/g, 'coin-2$1').replace(/C1(\d)/g, 'C2$1')}`);

    const records = (await readAll(source, first.cursor)).flatMap((p) => p.records);
    expect(ids(records)).toEqual(['coin-21', 'coin-22', 'coin-23', 'coin-24', 'coin-25', 'coin-26']);
    expect(locators(records)[0]).toBe('line 2');
  });

  test('When the file shrank below the saved position, then the next run reads it from the top', async () => {
    const path = await csvFile(`${HEADER}\n${rows(5)}`);
    const source = csvSource(path);
    const last = (await readAll(source, await source.startCursor(null))).at(-1)!;
    await writeFile(path, `${HEADER}\n${rows(1, 10)}`);

    const records = (await readAll(source, await source.startCursor({ cursor: last.cursor, complete: false }))).flatMap(
      (p) => p.records,
    );
    expect(ids(records)).toEqual(['coin-10']);
    expect(locators(records)).toEqual(['line 2']);
  });

  test('When the saved cursor belongs to another source, then the file is read from the top', async () => {
    const path = await csvFile(`${HEADER}\n${rows(2)}`);
    const source = csvSource(path);
    const cursor = await source.startCursor({ cursor: { page: 4 }, complete: false });
    expect(cursor).toMatchObject({ offset: 0, line: 0, header: null });
  });

  test('When the file is missing, then starting or fetching fails with the retryable UpstreamUnavailableError, naming the path', async () => {
    const path = join(dir, 'does-not-exist.csv');
    const source = csvSource(path);
    await expect(source.startCursor(null)).rejects.toThrow(new UpstreamUnavailableError(`CSV file ${path} cannot be read: ENOENT: no such file or directory, stat '${path}'`));

    const existing = await csvFile(`${HEADER}\n${rows(2)}`);
    const reader = csvSource(existing, 1);
    const first = await reader.fetchPage(await reader.startCursor(null), CONTEXT);
    await unlink(existing);
    await expect(reader.fetchPage(first.cursor, CONTEXT)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    const saved = { cursor: first.cursor, complete: false };
    await expect(reader.startCursor(saved)).rejects.toBeInstanceOf(UpstreamUnavailableError);
  }, 10_000);

  test('When the file is empty or blank, then it has no header and fails with InvalidPayloadError', async () => {
    for (const content of ['', '\n\n\r\n']) {
      const source = csvSource(await csvFile(content));
      await expect(source.fetchPage(await source.startCursor(null), CONTEXT)).rejects.toThrow(InvalidPayloadError);
    }
  });

  test('When a file is only a header, then the first page is empty and done, and rows appended later are read', async () => {
    const path = await csvFile(`${HEADER}\n`);
    const source = csvSource(path);
    const page = await source.fetchPage(await source.startCursor(null), CONTEXT);
    expect(page).toMatchObject({ records: [], done: true });
    await appendFile(path, rows(1));
    const next = await source.fetchPage(await source.startCursor({ cursor: page.cursor, complete: true }), CONTEXT);
    expect(locators(next.records)).toEqual(['line 2']);
  });

  test('When many pages are read, then no file descriptor is left open', async () => {
    const path = await csvFile(`${HEADER}\n${rows(60)}`);
    const source = csvSource(path, 2);
    const openFiles = (): number => readdirSync('/dev/fd').length;
    const before = openFiles();
    const pages = await readAll(source, await source.startCursor(null));
    expect(pages).toHaveLength(30);
    expect(openFiles()).toBeLessThanOrEqual(before);
  });
});
