import { randomUUID } from 'node:crypto';
import { createActivities } from '../../activities';
import type { Sql } from '../../src/db/sql';
import type { Sources } from '../../src/sources';
import { addCounts, type IngestResult } from '../../src/shared/types';
import { testLogger } from './logger';

/**
 * Runs a source through the real activities, in order, as plain calls: the same writes as a workflow run, for
 * tests that need data but are not about orchestration (the API's).
 */
export async function ingest(sql: Sql, sources: Sources, source: string, batchSize = 500): Promise<IngestResult> {
  const activities = createActivities({ sql, sources, log: testLogger, batchSize });
  const runId = randomUUID();
  const started = await activities.startRun({
    runId, workflowId: `etl-${source}`, temporalRunId: runId, source, trigger: 'cli', failure: undefined,
  });
  let { cursor, counts, batches } = started;
  for (;;) {
    const batchId = `${runId}:${batches}`;
    const fetched = await activities.fetchBatch({ source, runId, batchId, cursor });
    counts = addCounts(counts, await activities.loadBatch({ source, runId, batchId, committedBefore: counts.fetched }));
    cursor = fetched.cursor;
    batches += 1;
    if (fetched.done) break;
  }
  await activities.endRun({ runId, source, status: 'succeeded' });
  return { runId, source, counts, batches };
}
