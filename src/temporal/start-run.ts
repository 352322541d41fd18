import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { REPLAY_WORKFLOW_TYPE, WORKFLOW_TYPE, workflowIdFor } from '../shared/names';
import { runSearchAttributes } from '../shared/search-attributes';
import type { FailureInjection, IngestInput, ReplayInput, ReplaySelection, Trigger } from '../shared/types';

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
  const input: IngestInput = { source: args.source, trigger: args.trigger, ...(args.failure ? { failure: args.failure } : {}) };
  return startUnderSourceId(client, WORKFLOW_TYPE, input, args.taskQueue);
}

/**
 * Starts a replay of stored payloads (`etl replay`) under the source's workflow id: while a run of the source is
 * in flight, that run is returned (started: false) and nothing is replayed.
 */
export async function startReplay(
  client: Client,
  args: { source: string; trigger: Trigger; taskQueue: string; selection: ReplaySelection },
): Promise<StartedRun> {
  const input: ReplayInput = { source: args.source, trigger: args.trigger, replay: args.selection };
  return startUnderSourceId(client, REPLAY_WORKFLOW_TYPE, input, args.taskQueue);
}

async function startUnderSourceId(client: Client, type: string, input: IngestInput, taskQueue: string): Promise<StartedRun> {
  const workflowId = workflowIdFor(input.source);
  try {
    const handle = await client.workflow.start(type, {
      workflowId,
      taskQueue,
      args: [input],
      typedSearchAttributes: runSearchAttributes(input.source),
    });
    return { source: input.source, workflowId, runId: handle.firstExecutionRunId, started: true };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const running = await client.workflow.getHandle(workflowId).describe();
    const firstRunId = running.raw.workflowExecutionInfo?.firstRunId || running.runId;
    return { source: input.source, workflowId, runId: firstRunId, started: false };
  }
}
