import { listingOf, resolveAssets } from '../src/db/assets';
import { insertQuotes } from '../src/db/quotes';
import { storeRaw } from '../src/db/raw';
import type { Sql } from '../src/db/sql';
import type { NormalizedQuote } from '../src/schemas/quote';
import { SOURCE_NAMES } from '../src/sources';
import type { Source, SourceRecord } from '../src/sources/types';
import { PhaseTimes, performance, seconds } from './timing';

export interface BoundResult {
  records: number;
  invalid: number;
  /** Time inside the write transactions only: reading the upstream is outside the clock. */
  seconds: number;
  phases: PhaseTimes;
  /** Each batch's transaction, in order: shows whether writes slow down as the tables grow. */
  batchSeconds: number[];
}

const PHASES = ['storeRaw', 'normalize', 'resolveAssets', 'insertQuotes'] as const;

/**
 * The bound: the pipeline's database work for the same records, done straight, with no HTTP on the clock and no
 * Temporal. Each batch is read from the source first (off the clock, the same fetchPage the pipeline calls, so
 * the very same records), then timed: storeRaw + normalize + resolveAssets + insertQuotes in one transaction.
 * What the pipeline adds on top (batch rows, reading raw back, checkpoints, run counts, activity and workflow
 * round trips, the upstream itself) is what end-to-end is measured against.
 */
export async function measureBound(options: { sql: Sql; source: Source; batchSize: number; runId: string }): Promise<BoundResult> {
  const { sql, source, batchSize, runId } = options;
  const phases = new PhaseTimes();
  let cursor = await source.startCursor(null);
  let done = false;
  let records = 0;
  let invalid = 0;
  let clock = 0;
  const batchSeconds: number[] = [];
  while (!done) {
    const batch: SourceRecord[] = [];
    while (!done && batch.length < batchSize) {
      const page = await source.fetchPage(cursor, { runId });
      for (const record of page.records) batch.push(record);
      cursor = page.cursor;
      done = page.done;
    }
    const start = performance.now();
    invalid += await sql.begin(async (tx) => {
      await phases.time('storeRaw', () => storeRaw(tx, { source: source.name, runId, fetchedAt: new Date(), records: batch }));
      const { valid, rejected } = phases.timeSync('normalize', () => normalizeAll(source, batch));
      const assetIds = await phases.time('resolveAssets', () =>
        resolveAssets(tx, source.name, uniqueBy(valid, (q) => q.sourceAssetId).map((q) => listingOf(source.name, q)), SOURCE_NAMES),
      );
      await phases.time('insertQuotes', () =>
        insertQuotes(tx, {
          source: source.name,
          runId,
          quotes: valid.map((q) => ({ ...q, assetId: assetIds.get(q.sourceAssetId) as string })),
        }),
      );
      return rejected;
    });
    batchSeconds.push(seconds(start));
    clock += batchSeconds.at(-1) ?? 0;
    records += batch.length;
  }
  // BEGIN, COMMIT and the transaction's own round trips: whatever the named phases do not cover.
  phases.add('begin+commit', clock - PHASES.reduce((sum, phase) => sum + phases.get(phase), 0));
  return { records, invalid, seconds: clock, phases, batchSeconds };
}

/** As the loader does: one quote per (coin, timestamp), the later observation winning. */
function normalizeAll(source: Source, batch: readonly SourceRecord[]): { valid: NormalizedQuote[]; rejected: number } {
  const quotes = new Map<string, NormalizedQuote>();
  let rejected = 0;
  for (const record of batch) {
    const outcome = source.normalize(record);
    if (!outcome.ok) {
      rejected++;
      continue;
    }
    const q = outcome.quote;
    quotes.set(`${q.sourceAssetId}\u0000${q.sourceUpdatedAt.toISOString()}`, q);
  }
  return { valid: [...quotes.values()], rejected };
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) seen.set(key(item), item);
  return [...seen.values()];
}
