import { saveBatch } from '../src/db/batches';
import { storeRaw } from '../src/db/raw';
import { sourceNamed } from '../src/sources';
import type { SourceRecord } from '../src/sources/types';
import type { Cursor } from '../src/shared/types';
import type { ActivityDeps } from './deps';
import { activityContext, heartbeating } from './heartbeat';

export interface FetchBatchInput {
  source: string;
  runId: string;
  batchId: string;
  cursor: Cursor;
}

export interface FetchBatchResult {
  batchId: string;
  fetched: number;
  cursor: Cursor;
  done: boolean;
}

export function createFetchActivities({ sql, sources, batchSize }: ActivityDeps) {
  return {
    /**
     * Fetch + store raw: reads pages from the cursor until a batch is full, stores every record as sent and
     * records the batch. Returns only the batch's id, size and the cursor after it: never the records.
     */
    fetchBatch(input: FetchBatchInput): Promise<FetchBatchResult> {
      return heartbeating(async () => {
        const source = sourceNamed(sources, input.source);
        const signal = activityContext()?.cancellationSignal;
        const records: SourceRecord[] = [];
        let cursor = input.cursor;
        let done = false;
        while (!done && records.length < batchSize) {
          const page = await source.fetchPage(cursor, { runId: input.runId, signal });
          for (const record of page.records) records.push(record);
          cursor = page.cursor;
          done = page.done;
        }
        const fetchedAt = new Date();
        const rawIds = await storeRaw(sql, { source: input.source, runId: input.runId, fetchedAt, records });
        await saveBatch(sql, {
          batchId: input.batchId,
          runId: input.runId,
          source: input.source,
          rawIds,
          cursorAfter: cursor,
          done,
          fetched: records.length,
        });
        return { batchId: input.batchId, fetched: records.length, cursor, done };
      });
    },
  };
}
