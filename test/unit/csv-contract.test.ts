import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { loadConfig } from '../../src/config';
import { contractOf, normalizeHeader, sourceContract, type ContractField } from '../../src/contracts/contract';
import { detectDrift, HEADER_FIELD, type SchemaChange } from '../../src/contracts/drift';
import { applyMapping } from '../../src/contracts/mapping';
import { headerOrder, profileRecords, type BatchProfile } from '../../src/contracts/profile';
import { createSources, sourceNamed } from '../../src/sources';
import type { Source, SourceRecord } from '../../src/sources/types';

const AT = '2026-01-01T00:00:00Z';
const ROWS = 50;

let dir: string;
let files = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kasparro-csv-contract-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const csvSource = (path = 'data/coins.csv'): Source =>
  sourceNamed(createSources(loadConfig({ CSV_PATH: path, CSV_PAGE_SIZE: String(ROWS) }).sources), 'csv');
const contract = sourceContract(csvSource()) ?? [];
const fieldAt = (path: string): ContractField => contract.find((f) => f.path === path) as ContractField;

/** A column of a generated file: its header cell and the cell of row i. */
type Column = readonly [header: string, cell: (i: number) => string];

const price = (i: number) => String(0.01 * 10 ** (i % 7));
/** The file the CSV source is written for, with values spread like a market's. */
const COLUMNS: readonly Column[] = [
  ['id', (i) => `coin-${i}`],
  ['symbol', (i) => `C${i}`],
  ['name', (i) => `Coin ${i}`],
  ['price_usd', price],
  ['market_cap_usd', (i) => String(1e6 * 10 ** (i % 6))],
  ['volume_24h_usd', (i) => String(5e5 * 10 ** (i % 5))],
  ['percent_change_24h', (i) => ((i % 21) - 10).toFixed(2)],
  ['rank', (i) => String(i + 1)],
  ['last_updated', () => AT],
];

const renamed = (from: string, to: string, columns = COLUMNS): Column[] =>
  columns.map(([header, cell]) => [header === from ? to : header, cell] as const);
const without = (header: string, columns = COLUMNS): Column[] => columns.filter(([h]) => h !== header);
const refilled = (header: string, cell: Column[1], columns = COLUMNS): Column[] =>
  columns.map(([h, c]) => [h, h === header ? cell : c] as const);

/** The payloads the CSV source reads from a file of these columns. */
async function payloads(columns: readonly Column[]): Promise<unknown[]> {
  const lines = [columns.map(([header]) => header), ...Array.from({ length: ROWS }, (_, i) => columns.map(([, cell]) => cell(i)))];
  const path = join(dir, `coins-${++files}.csv`);
  await writeFile(path, `${lines.map((cells) => cells.join(',')).join('\n')}\n`);
  const source = csvSource(path);
  const page = await source.fetchPage(await source.startCursor(null), { runId: 'csv-contract-test' });
  expect(page.records).toHaveLength(ROWS);
  return page.records.map((r) => r.payload);
}

const profileOf = async (columns: readonly Column[]): Promise<BatchProfile> => profileRecords(await payloads(columns));

async function driftOf(columns: readonly Column[], baselineColumns: readonly Column[] | null = COLUMNS): Promise<SchemaChange[]> {
  const baseline = baselineColumns ? await profileOf(baselineColumns) : undefined;
  return detectDrift(contract, await profileOf(columns), { baseline });
}

/** One good row keyed by the contract's paths. */
const goodRow = (): Record<string, string> => Object.fromEntries(COLUMNS.map(([header, cell]) => [header, cell(3)]));
const asRecord = (payload: unknown): SourceRecord => ({ id: 'coin-3', payload, locator: 'line 5' });

describe('the CSV source’s contract', () => {
  test('When the contract is read, then it has one column per field, at a header normalize() reads, required as a row needs it', () => {
    expect(contract.map((f) => f.path)).toEqual(COLUMNS.map(([header]) => header));
    expect(contract.filter((f) => f.required).map((f) => f.path)).toEqual(['symbol', 'name', 'price_usd', 'last_updated']);
    expect(fieldAt('price_usd')).toEqual({
      path: 'price_usd',
      types: ['string'],
      required: true,
      aliases: ['price_usd', 'price', 'current_price', 'usd_price', 'price_in_usd'],
    });
    expect(fieldAt('id')).toMatchObject({ types: ['string', 'null'], required: false });
    for (const field of contract) {
      expect(field.aliases?.[0]).toBe(field.path);
      for (const alias of field.aliases ?? []) expect(normalizeHeader(alias)).toBe(alias);
    }
  });

  test('When a row is keyed by the contract’s paths, then normalize() reads every field of it', () => {
    const outcome = csvSource().normalize(asRecord(goodRow()));
    expect(outcome.ok && Object.values(outcome.quote).every((v) => v !== null && v !== undefined)).toBe(true);
  });

  test('When a row lacks one column, then normalize() refuses it exactly when the contract calls that column required', () => {
    const source = csvSource();
    const loads = contract.map((field) => {
      const { [field.path]: _dropped, ...row } = goodRow();
      return [field.path, source.normalize(asRecord(row)).ok];
    });
    expect(loads).toEqual(contract.map((f) => [f.path, !f.required]));
  });

  test('When a renamed column is mapped back to its contract path, then normalize() reads it', () => {
    const { price_usd: price, ...row } = goodRow();
    const mapped = applyMapping({ ...row, usd_price_value: price }, { price_usd: 'usd_price_value' });
    const outcome = csvSource().normalize(asRecord(mapped));
    expect(outcome.ok && outcome.quote.priceUsd).toBe(Number(price));
  });

  test('When the contract of a source is asked for, then a declared one wins and a derived one is derived once', () => {
    const sources = createSources(loadConfig({}).sources);
    const csv = sourceNamed(sources, 'csv');
    const gecko = sourceNamed(sources, 'coingecko');
    expect(sourceContract(csv)).toBe(csv.contract);
    expect(sourceContract(gecko)).toEqual(contractOf(gecko.recordSchema as z.ZodType));
    expect(sourceContract(gecko)).toBe(sourceContract(gecko));
  });
});

describe('CSV header drift', () => {
  test('When a file has its baseline’s header, then nothing is reported, with or without the baseline', async () => {
    expect(await driftOf(COLUMNS)).toEqual([]);
    expect(await driftOf(COLUMNS, null)).toEqual([]);
  });

  test('When a file spells columns by other aliases, or the same ones as a spreadsheet would, then that is no drift', async () => {
    const spelled = renamed('price_usd', 'current_price', renamed('last_updated', 'Last Updated', renamed('name', 'Coin Name', renamed('rank', 'RANK #'))));
    expect(await driftOf(spelled)).toEqual([]);
    expect(await driftOf(spelled, null)).toEqual([]);
  });

  test.each([
    ['a case style change', 'PriceUSD', 1],
    ['camelCase', 'priceUsd', 1],
    ['a suffix', 'usd_price_value', 0.9],
    ['a prefix', 'last_price_usd', 0.9],
  ])('When the price column is renamed by %s (%s), then it is missing and the rename scores high', async (_how, header, name) => {
    const changes = await driftOf(renamed('price_usd', header));
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      kind: 'required_missing', field: 'price_usd', breaking: true, records: ROWS,
      suggested: { field: header, evidence: { name, sameType: true, values: 1 } },
    });
    expect(changes[0]?.suggested?.confidence).toBeGreaterThanOrEqual(0.9);
  });

  test('When a column is renamed near another of its aliases, then the rename scores against that alias', async () => {
    const [missing] = await driftOf(renamed('last_updated', 'timestamp_utc'));
    expect(missing).toMatchObject({ field: 'last_updated', suggested: { field: 'timestamp_utc', evidence: { name: 0.9, values: 1 } } });
  });

  test('When the price column is dropped and an unrelated one appears, then no rename is suggested and the new column is reported', async () => {
    const changes = await driftOf([...without('price_usd'), ['holders', (i) => String(1000 + i)]]);
    expect(changes).toEqual([
      { kind: 'required_missing', field: 'price_usd', breaking: true, records: ROWS },
      { kind: 'new_field', field: 'holders', breaking: false, records: ROWS },
    ]);
  });

  test('When the renamed column’s numbers are far from the old ones, then the value evidence from the text cells lowers the confidence', async () => {
    const [same] = await driftOf(renamed('price_usd', 'usd_price_value'));
    const [other] = await driftOf(renamed('price_usd', 'usd_price_value', refilled('price_usd', (i) => String(1e9 + Number(price(i))))));
    expect(same?.suggested?.evidence.values).toBe(1);
    expect(other?.suggested?.evidence.values).toBeLessThan(0.1);
    expect(other?.suggested?.confidence ?? 0).toBeLessThan((same?.suggested?.confidence ?? 0) - 0.2);
  });

  test('When columns are dropped, then a required one is missing and breaking, an optional one missing and not', async () => {
    const changes = await driftOf(without('last_updated', without('market_cap_usd')));
    expect(changes).toEqual([
      { kind: 'required_missing', field: 'last_updated', breaking: true, records: ROWS },
      { kind: 'optional_missing', field: 'market_cap_usd', breaking: false, records: ROWS },
    ]);
  });

  test('When a column is added in the middle, then it is a new column and no other column moved', async () => {
    const added: Column[] = [...COLUMNS.slice(0, 3), ['circulating_supply', (i) => String(19e6 + i)], ...COLUMNS.slice(3)];
    expect(await driftOf(added)).toEqual([{ kind: 'new_field', field: 'circulating_supply', breaking: false, records: ROWS }]);
  });

  test('When the columns come in another order, then the header is reordered, not breaking, with both orders', async () => {
    const last = COLUMNS.at(-1) as Column;
    const reordered = [last, ...COLUMNS.slice(0, -1)];
    expect(await driftOf(reordered)).toEqual([
      {
        kind: 'columns_reordered', field: HEADER_FIELD, breaking: false, records: ROWS,
        order: { baseline: COLUMNS.map(([h]) => h), observed: reordered.map(([h]) => h) },
      },
    ]);
  });

  test('When a renamed column is read under its mapping, then nothing is reported, though the mapping moved it last', async () => {
    const mapping = { price_usd: 'usd_price_value' };
    const baseline = await profileOf(COLUMNS);
    const mapped = profileRecords((await payloads(renamed('price_usd', 'usd_price_value'))).map((p) => applyMapping(p, mapping)));
    expect(headerOrder(mapped).at(-1)).toBe('price_usd');
    expect(detectDrift(contract, mapped, { baseline, mapping })).toEqual([]);
    expect(detectDrift(contract, mapped, { baseline }).map((c) => c.kind)).toEqual(['columns_reordered']);
  });

  test('When every price cell is blank, then the required column became empty and that is breaking', async () => {
    expect(await driftOf(refilled('price_usd', () => ''))).toEqual([{ kind: 'mostly_empty', field: 'price_usd', breaking: true, records: ROWS }]);
  });
});
