import { saveBatch } from '../src/db/batches';
import { selectReplayRawIds } from '../src/db/replay';
import type { Cursor, ReplaySelection } from '../src/shared/types';
import type { ActivityDeps } from './deps';
import type { FetchBatchResult } from './fetch-batch';

export interface SelectReplayBatchInput {
  source: string;
  runId: string;
  batchId: string;
  /** `{ afterRawId }`: the replay reads the raw store in id order. */
  cursor: Cursor;
  selection: ReplaySelection;
}

export function createReplayActivities({ sql, batchSize }: ActivityDeps) {
  return {
    /**
     * A replay's counterpart of fetchBatch: instead of asking the upstream, picks the next stored payloads of the
     * selection and records them as a batch, which loadBatch then loads like any other. Only ids pass through.
     */
    async selectReplayBatch(input: SelectReplayBatchInput): Promise<FetchBatchResult> {
      const afterRawId = typeof input.cursor.afterRawId === 'string' ? input.cursor.afterRawId : '0';
      const rawIds = await selectReplayRawIds(sql, { source: input.source, selection: input.selection, afterRawId, limit: batchSize });
      const cursor = { afterRawId: rawIds.at(-1) ?? afterRawId };
      const done = rawIds.length < batchSize;
      await saveBatch(sql, {
        batchId: input.batchId, runId: input.runId, source: input.source, rawIds, cursorAfter: cursor, done, fetched: rawIds.length,
      });
      return { batchId: input.batchId, fetched: rawIds.length, cursor, done };
    },
  };
}
