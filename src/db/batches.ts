import type { Cursor, RunCounts } from '../shared/types';
import type { Db } from './sql';

export interface Batch {
  batchId: string;
  runId: string;
  source: string;
  rawIds: string[];
  cursorAfter: Cursor;
  done: boolean;
  fetched: number;
  /** Set once the batch is loaded: what the load counted. */
  loaded: Omit<RunCounts, 'fetched'> | null;
}

/** Records what one fetch stored. A retried fetch replaces its own unloaded batch; a loaded batch is final. */
export async function saveBatch(db: Db, batch: Omit<Batch, 'loaded'>): Promise<void> {
  await db`
    INSERT INTO etl_batches (batch_id, run_id, source, raw_ids, cursor_after, done, fetched)
    VALUES (${batch.batchId}, ${batch.runId}, ${batch.source}, ${batch.rawIds}::bigint[],
            ${db.json(batch.cursorAfter as never)}, ${batch.done}, ${batch.fetched})
    ON CONFLICT (batch_id) DO UPDATE
      SET raw_ids = excluded.raw_ids, cursor_after = excluded.cursor_after,
          done = excluded.done, fetched = excluded.fetched
    WHERE etl_batches.loaded_at IS NULL`;
}

/** Reads a batch, locking it so two attempts of the same load cannot both commit it. */
export async function lockBatch(db: Db, batchId: string): Promise<Batch | undefined> {
  const [row] = await db<
    (Omit<Batch, 'loaded' | 'rawIds'> & { rawIds: string[]; inserted: number | null; unchanged: number | null; invalid: number | null })[]
  >`
    SELECT batch_id AS "batchId", run_id AS "runId", source, raw_ids::text[] AS "rawIds", cursor_after AS "cursorAfter",
           done, fetched, inserted, unchanged, invalid
      FROM etl_batches WHERE batch_id = ${batchId} FOR UPDATE`;
  if (!row) return undefined;
  const { inserted, unchanged, invalid, ...rest } = row;
  return { ...rest, loaded: inserted === null ? null : { inserted, unchanged: unchanged ?? 0, invalid: invalid ?? 0 } };
}

export async function markBatchLoaded(db: Db, batchId: string, counts: Omit<RunCounts, 'fetched'>): Promise<void> {
  await db`
    UPDATE etl_batches SET loaded_at = now(), inserted = ${counts.inserted}, unchanged = ${counts.unchanged},
           invalid = ${counts.invalid}
     WHERE batch_id = ${batchId}`;
}
