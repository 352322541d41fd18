/**
 * Names shared by workflows, the worker, the API and the CLI. Workflow-safe: no Node built-ins here.
 */
export const WORKFLOW_TYPE = 'ingestSource';
export const SCHEDULED_LAUNCH_WORKFLOW_TYPE = 'launchScheduledRun';

/** One fixed workflow id per source: the server itself then guarantees one run per source at a time. */
export function workflowIdFor(source: string): string {
  return `etl-${source}`;
}

export function scheduleIdFor(source: string): string {
  return `etl-schedule-${source}`;
}

/** Custom search attribute that lets the Web UI filter runs by source: `EtlSource = "coingecko"`. */
export const SOURCE_SEARCH_ATTRIBUTE = 'EtlSource';

export const PROGRESS_QUERY = 'progress';
