import { z } from 'zod';
import { normalizeHeader, type ContractField } from '../contracts/contract';
import { toOutcome, type NormalizeOutcome } from '../schemas/quote';
import { readRows, resumePosition, type CsvPosition } from './csv-file';
import { parseLooseNumber } from './numbers';
import { duration, positiveInt } from '../settings';
import { defineSource, type SourceRecord } from './types';

const Settings = z.object({
  CSV_PATH: z.string().min(1).default('data/coins.csv'),
  CSV_PAGE_SIZE: positiveInt(5000),
  SCHEDULE_INTERVAL_CSV: duration('1h'),
});

/** Header spellings seen in exported spreadsheets, after normalizeHeader(). First match wins. */
const ALIASES = {
  id: ['id', 'coin_id', 'asset_id', 'slug'],
  symbol: ['symbol', 'ticker', 'sym'],
  name: ['name', 'coin', 'asset', 'asset_name', 'coin_name'],
  price: ['price_usd', 'price', 'current_price', 'usd_price', 'price_in_usd'],
  marketCap: ['market_cap_usd', 'market_cap', 'marketcap', 'mcap', 'market_capitalization'],
  volume: ['volume_24h_usd', 'volume_24h', 'total_volume', 'volume', 'vol_24h', '24h_volume'],
  change: ['percent_change_24h', 'change_24h', 'price_change_percentage_24h', 'change_24h_pct', '24h_change', '24h'],
  rank: ['rank', 'market_cap_rank', 'cmc_rank', 'no'],
  updated: ['last_updated', 'updated_at', 'timestamp', 'date', 'as_of', 'time'],
} as const;
type Field = keyof typeof ALIASES;

/**
 * The fields a row cannot load without: normalizeRow() refuses a row without a price or a time, and the quote
 * schema one without a symbol or a name. Not the id: a row without one is known by symbol:name, else its line.
 */
const REQUIRED: ReadonlySet<Field> = new Set(['symbol', 'name', 'price', 'updated']);

/**
 * The data contract of a CSV file, from ALIASES: a column per field, at its first header name (where a field
 * mapping puts a renamed column back), known by any of them. Cells are text; an optional one may be missing
 * from a short row (null).
 */
const CONTRACT: readonly ContractField[] = Object.entries(ALIASES).map(([field, aliases]) => {
  const required = REQUIRED.has(field as Field);
  return { path: aliases[0], types: required ? ['string'] : ['string', 'null'], required, aliases };
});

const CsvPositionSchema = z.object({
  offset: z.number().int().min(0),
  line: z.number().int().min(0),
  header: z.array(z.string()).nullable(),
  fingerprint: z.string(),
});

export const csv = defineSource({
  name: 'csv',
  settings: Settings,
  create(settings) {
    const path = settings.CSV_PATH;
    return {
      name: 'csv',
      scheduleIntervalMs: settings.SCHEDULE_INTERVAL_CSV,
      contract: CONTRACT,
      // Finished or not, the saved position is where this file's unread rows begin, if it is still the same file.
      async startCursor(saved) {
        const position = saved ? CsvPositionSchema.safeParse(saved.cursor) : undefined;
        return { ...(await resumePosition(path, position?.success ? position.data : null)) };
      },
      async fetchPage(cursor) {
        // Checked on every page, not only at run start: a file replaced in the middle of a run is read from its
        // top, never from an offset that belonged to the old one.
        const from: CsvPosition = await resumePosition(path, CsvPositionSchema.parse(cursor));
        const { header, rows, position, atEnd } = await readRows(path, from, settings.CSV_PAGE_SIZE);
        const records = rows.map(({ line, values }): SourceRecord => {
          const payload = toObject(header, values);
          return { id: recordId(header, values) ?? `line-${line}`, payload, locator: `line ${line}` };
        });
        return { records, cursor: { ...position }, done: atEnd };
      },
      normalize(record) {
        return normalizeRow(record);
      },
    };
  },
});

/** The row as the file had it: header → cell, plus any cells past the header under `_extra`. */
function toObject(header: string[], values: string[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  header.forEach((column, i) => {
    row[column] = values[i] ?? null;
  });
  if (values.length > header.length) row._extra = values.slice(header.length);
  return row;
}

function recordId(header: string[], values: string[]): string | undefined {
  const get = reader(header, values);
  const id = get('id');
  if (id) return id;
  const symbol = get('symbol');
  const name = get('name');
  return symbol && name ? `${symbol}:${name}`.toLowerCase() : undefined;
}

function reader(header: string[], values: string[]): (field: Field) => string | undefined {
  const index = new Map(header.map((column, i) => [normalizeHeader(column), i]));
  return (field) => {
    for (const alias of ALIASES[field]) {
      const i = index.get(alias);
      if (i !== undefined) {
        const value = values[i]?.trim();
        return value === '' ? undefined : value;
      }
    }
    return undefined;
  };
}

function normalizeRow(record: SourceRecord): NormalizeOutcome {
  const row = record.payload as Record<string, unknown>;
  const header = Object.keys(row).filter((k) => k !== '_extra');
  const get = reader(
    header,
    header.map((k) => (typeof row[k] === 'string' ? (row[k] as string) : '')),
  );
  const problems: string[] = [];
  const number = (field: Field, required: boolean): number | null => {
    const text = get(field);
    const value = parseLooseNumber(text);
    if (value === undefined) problems.push(`${field}: "${text}" is not a number`);
    // "NaN" reads as no value, but a required one that says NaN is named as such: the row had a value, a bad one.
    else if (value === null && required) problems.push(/^nan$/i.test(text ?? '') ? `${field}: the value was NaN` : `${field}: missing`);
    return value ?? null;
  };
  const price = number('price', true);
  const marketCap = number('marketCap', false);
  const volume = number('volume', false);
  const change = number('change', false);
  const rank = number('rank', false);
  const updated = parseTimestamp(get('updated'));
  if (!updated) problems.push(`last_updated: "${get('updated') ?? ''}" is not a date`);
  if (problems.length > 0) return { ok: false, reason: `${record.locator}: ${problems.join('; ')}` };

  const outcome = toOutcome({
    sourceAssetId: record.id,
    symbol: get('symbol')?.toUpperCase(),
    name: get('name'),
    priceUsd: price,
    marketCapUsd: marketCap,
    volume24hUsd: volume,
    percentChange24h: change,
    rank: rank === null || rank === 0 ? null : Math.round(rank), // 0 = unranked, as CoinPaprika writes it
    sourceUpdatedAt: updated,
  });
  return outcome.ok ? outcome : { ok: false, reason: `${record.locator}: ${outcome.reason}` };
}

/** ISO 8601, "2024-05-01 12:00:00" (taken as UTC), or Unix seconds / milliseconds. */
export function parseTimestamp(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  if (/^\d{9,13}$/.test(text)) {
    const n = Number(text);
    return new Date(text.length > 10 ? n : n * 1000);
  }
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!day || !isCalendarDay(Number(day[1]), Number(day[2]), Number(day[3]))) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)
    ? `${text.replace(' ', 'T')}Z`
    : /^\d{4}-\d{2}-\d{2}$/.test(text)
      ? `${text}T00:00:00Z`
      : text;
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** Date parsing rolls 2024-02-30 over to March 1st: a day that does not exist is a typo, not a date. */
function isCalendarDay(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}
