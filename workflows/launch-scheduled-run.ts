import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { executeChild, ParentClosePolicy } from '@temporalio/workflow';
import { workflowIdFor } from '../src/shared/names';
import { runSearchAttributes } from '../src/shared/search-attributes';
import type { IngestResult } from '../src/shared/types';
import { ingestSource } from './ingest-source';

/**
 * What a source's Temporal Schedule starts. Schedules add a timestamp to the workflow ids they start, so the
 * schedule starts this small launcher, which runs the source's ETL under its fixed id `etl-<source>`: the
 * server then refuses a second run of a source while one is in flight, whoever started it.
 */
export async function launchScheduledRun(source: string): Promise<IngestResult | { skipped: string }> {
  try {
    return await executeChild(ingestSource, {
      workflowId: workflowIdFor(source),
      args: [{ source, trigger: 'schedule' }],
      typedSearchAttributes: runSearchAttributes(source),
      // Resetting or terminating the launcher must not touch the ETL run itself.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { skipped: `${source}: a run is already in flight` };
    throw err;
  }
}
