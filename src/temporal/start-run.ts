import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { WORKFLOW_TYPE, workflowIdFor } from '../shared/names';
import { runSearchAttributes } from '../shared/search-attributes';
import type { FailureInjection, IngestInput, Trigger } from '../shared/types';

export interface StartedRun {
  source: string;
  workflowId: string;
  /** The run (first run id of its chain, = etl_runs.run_id): the new one, or the one already in flight. */
  runId: string;
  /** false when a run of this source was already in flight and is returned instead of a new one. */
  started: boolean;
}

/**
 * Starts a source's run under its fixed workflow id. While one is in flight the server refuses a second
 * start, atomically, and the running one is returned instead: one run per source at a time, whoever asks.
 */
export async function startIngest(
  client: Client,
  args: { source: string; trigger: Trigger; taskQueue: string; failure?: FailureInjection | undefined },
): Promise<StartedRun> {
  const workflowId = workflowIdFor(args.source);
  const input: IngestInput = { source: args.source, trigger: args.trigger, ...(args.failure ? { failure: args.failure } : {}) };
  try {
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      workflowId,
      taskQueue: args.taskQueue,
      args: [input],
      typedSearchAttributes: runSearchAttributes(args.source),
    });
    return { source: args.source, workflowId, runId: handle.firstExecutionRunId, started: true };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const running = await client.workflow.getHandle(workflowId).describe();
    const firstRunId = running.raw.workflowExecutionInfo?.firstRunId || running.runId;
    return { source: args.source, workflowId, runId: firstRunId, started: false };
  }
}
