import { randomUUID } from 'node:crypto';
import { createActivities } from '../../activities';
import { loadConfig } from '../../src/config';
import type { Sql } from '../../src/db/sql';
import { createSources, type Sources } from '../../src/sources';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { addCounts, type IngestResult, type SchemaChangePolicy } from '../../src/shared/types';
import { testLogger } from './logger';

/**
 * Runs a source through the real activities, in order, as plain calls: the same writes as a workflow run, for
 * tests that need data but are not about orchestration (the API's). `policy`: the source's schema-change policy.
 */
export async function ingest(
  sql: Sql,
  sources: Sources,
  source: string,
  batchSize = 500,
  policy?: SchemaChangePolicy,
): Promise<IngestResult> {
  const activities = createActivities({
    sql, sources, log: testLogger, batchSize, ...(policy ? { schemaChanges: { [source]: policy } } : {}),
  });
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
  const status = await activities.endRun({ runId, source, status: 'succeeded' });
  if (status !== 'succeeded' && status !== 'degraded') throw new Error(`run ended ${status}`);
  return { runId, source, status, counts, batches };
}

/** The HTTP sources pointed at a market simulator of their own, with rate limits out of the way. */
export async function simulatedSources(options: { coins: number; seed: number }): Promise<{ simulator: Simulator; sources: Sources }> {
  const simulator = await startSimulator(options);
  const config = loadConfig({
    COINGECKO_BASE_URL: simulator.url,
    COINPAPRIKA_BASE_URL: simulator.url,
    COINGECKO_RATE_LIMIT_PER_MIN: '100000',
    COINPAPRIKA_RATE_LIMIT_PER_MIN: '100000',
  });
  return { simulator, sources: createSources(config.sources) };
}
