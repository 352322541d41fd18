// The workflow bundle's entry: every workflow the worker runs, and nothing else.
export { ingestSource, progressQuery, replaySource } from './ingest-source';
export { launchScheduledRun } from './launch-scheduled-run';
