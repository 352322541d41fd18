/**
 * Names shared by workflows, the worker, the API and the CLI. Workflow-safe: no Node built-ins here.
 */
export const WORKFLOW_TYPE = 'ingestSource';
/** `etl replay`: stored payloads re-normalized, under the same workflow id as the source's runs. */
export const REPLAY_WORKFLOW_TYPE = 'replaySource';
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

/** etl_runs.run_id: Temporal's first run id of the chain, a UUID. */
export const RUN_ID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
