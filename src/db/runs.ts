import type { FailureInjection, ReplaySelection, RunCounts, RunStatus, Trigger } from '../shared/types';
import type { Db } from './sql';

export interface RunStart {
  runId: string;
  workflowId: string;
  temporalRunId: string;
  source: string;
  trigger: Trigger;
  failure: FailureInjection | undefined;
  /** A replay's selection; unset for a run that fetches. */
  replay?: ReplaySelection | undefined;
}

/**
 * Records that a run is (again) running and returns what it has committed so far: a reset run continues
 * the same row, with the counts of the attempt before it.
 */
export async function beginRun(db: Db, run: RunStart): Promise<{ counts: RunCounts; batches: number }> {
  const [row] = await db<(RunCounts & { batches: number })[]>`
    INSERT INTO etl_runs (run_id, workflow_id, temporal_run_id, source, trigger, status, fail_after, fail_mode, mode, selection)
    VALUES (${run.runId}, ${run.workflowId}, ${run.temporalRunId}, ${run.source}, ${run.trigger}, 'running',
            ${run.failure?.afterRecords ?? null}, ${run.failure?.mode ?? null}, ${run.replay ? 'replay' : 'ingest'},
            ${run.replay ? db.json(run.replay as never) : null})
    ON CONFLICT (run_id) DO UPDATE
      SET status = 'running', temporal_run_id = excluded.temporal_run_id, finished_at = NULL, error = NULL,
          status_reason = NULL
    RETURNING fetched, inserted, unchanged, invalid, batches`;
  if (!row) throw new Error(`etl_runs: no row for ${run.runId}`);
  const { batches, ...counts } = row;
  return { counts, batches };
}

/**
 * Called in the load transaction, so run counts always agree with the committed data. `temporalRunId` is the
 * execution doing the work: after continue-as-new it is no longer the one the run started in.
 */
export async function addRunCounts(db: Db, runId: string, counts: RunCounts, temporalRunId?: string): Promise<void> {
  await db`
    UPDATE etl_runs SET fetched = fetched + ${counts.fetched}, inserted = inserted + ${counts.inserted},
           unchanged = unchanged + ${counts.unchanged}, invalid = invalid + ${counts.invalid}, batches = batches + 1,
           temporal_run_id = COALESCE(${temporalRunId ?? null}, temporal_run_id)
     WHERE run_id = ${runId}`;
}

export async function finishRun(
  db: Db,
  args: { runId: string; status: Exclude<RunStatus, 'running'>; reason?: string; error?: string; temporalRunId?: string },
): Promise<void> {
  // The execution that ended the run: the one to open, or reset, in the Web UI.
  await db`
    UPDATE etl_runs SET status = ${args.status}, status_reason = ${args.reason ?? null}, finished_at = now(),
           error = ${args.error ?? null}, temporal_run_id = COALESCE(${args.temporalRunId ?? null}, temporal_run_id)
     WHERE run_id = ${args.runId}`;
}
