import {
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  continueAsNew,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/shared/errors';
import { PROGRESS_QUERY } from '../src/shared/names';
import { addCounts, ZERO_COUNTS, type IngestInput, type IngestResult, type Progress, type ReplayInput } from '../src/shared/types';

export const progressQuery = defineQuery<Progress>(PROGRESS_QUERY);

const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES];

/**
 * Both batch activities heartbeat every few seconds while they work (activities/heartbeat.ts): a worker that
 * dies mid-batch is noticed within HEARTBEAT_TIMEOUT and the batch retried on another, not after start-to-close.
 */
const HEARTBEAT_TIMEOUT = '30 seconds';

/** Talking to upstreams: patient, since 429s and outages pass; Retry-After overrides the backoff. */
const { fetchBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 12, nonRetryableErrorTypes },
});

/** One database transaction: quick to retry, and safe to, since a committed load is recognised. */
const { loadBatch, selectReplayBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20, nonRetryableErrorTypes },
});

const { startRun, endRun } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes },
});

/** Well under Temporal's limits (51,200 events, 50 MB): a long run continues as new long before. */
const MAX_HISTORY_EVENTS = 2_000;

/**
 * One run of one source: fetch a batch (raw stored), load it (normalized, upserted and checkpointed in one
 * transaction), repeat until the source is read. Only cursors, ids and counts pass through history.
 */
export async function ingestSource(input: IngestInput): Promise<IngestResult> {
  return runBatches(input);
}

/**
 * `etl replay`: the same run over stored raw payloads instead of the upstream. Each batch is a page of the
 * selection's raw ids, loaded under today's code and field mapping. It runs under the source's workflow id, so
 * it never overlaps a fetching run of that source, and resumes past its committed batches after a reset.
 */
export async function replaySource(input: ReplayInput): Promise<IngestResult> {
  return runBatches(input);
}

async function runBatches(input: IngestInput & { replay?: ReplayInput['replay'] }): Promise<IngestResult> {
  const info = workflowInfo();
  // The chain's first run id names the run: the same across retries, continue-as-new and resets.
  const runId = info.firstExecutionRunId;
  const { source } = input;

  // Progress answers queries from the first moment, before anything has run.
  let progress: Progress = { source, runId, phase: 'starting', batches: 0, counts: ZERO_COUNTS, cursor: null };
  setHandler(progressQuery, () => progress);

  const started =
    input.carry ??
    (await startRun({
      runId, workflowId: info.workflowId, temporalRunId: info.runId, source, trigger: input.trigger, failure: input.failure, replay: input.replay,
    }));
  let { cursor, counts, batches } = started;
  // The run's own request, or the worker's default as startRun decided it (carried through continue-as-new).
  const failure = input.failure ?? started.failure;
  const report = (phase: Progress['phase']) => {
    progress = { source, runId, phase, batches, counts, cursor };
  };

  // A reset of a run whose last batch had committed: it only has to end.
  const nothingLeft = 'finished' in started && started.finished === true;

  try {
    while (!nothingLeft) {
      report('fetching');
      const batchId = `${info.runId}:${batches}`;
      const fetched = input.replay
        ? await selectReplayBatch({ source, runId, batchId, cursor, selection: input.replay })
        : await fetchBatch({ source, runId, batchId, cursor });
      report('loading');
      const loaded = await loadBatch({
        source, runId, batchId, failure, committedBefore: counts.fetched, temporalRunId: info.runId, ...(input.replay ? { replay: true } : {}),
      });
      counts = addCounts(counts, loaded);
      cursor = fetched.cursor;
      batches += 1;
      if (fetched.done) break;
      if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.maxHistoryEvents ?? MAX_HISTORY_EVENTS)) {
        await continueAsNew<typeof runBatches>({ ...input, carry: { cursor, counts, batches, ...(failure ? { failure } : {}) } });
      }
    }
    report('finishing');
    // `degraded` when records were held back: the workflow still completes, since retrying would not load them.
    const status = await endRun({ runId, source, status: 'succeeded', temporalRunId: info.runId });
    report('done');
    return { runId, source, status: status === 'degraded' ? 'degraded' : 'succeeded', counts, batches };
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err; // not a failure: the run goes on in a fresh history
    report('failed');
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => endRun({ runId, source, status: 'cancelled', temporalRunId: info.runId }));
    } else {
      await endRun({ runId, source, status: 'failed', error: describe(err), temporalRunId: info.runId });
    }
    throw err;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof ApplicationFailure || cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}
