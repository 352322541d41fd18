/**
 * Workflow inputs and outputs. Workflow-safe and small by design: cursors, ids and counts travel through
 * workflow history, never records.
 */
export type Trigger = 'schedule' | 'api' | 'cli';

/**
 * What became of a run (etl_runs.status). `degraded`: it read its upstream to the end but held records back,
 * because the upstream changed shape or far fewer records were valid than usual; its status_reason says which.
 */
export const RUN_STATUSES = ['running', 'succeeded', 'degraded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** How a run can end: what the workflow reports, before endRun judges a success by what it loaded. */
export type RunEnd = 'succeeded' | 'failed' | 'cancelled';
export type FailureMode = 'once' | 'fatal';

/**
 * What a load does when its upstream changed shape. `quarantine`: records that break the contract are held
 * back with a reason naming the change, the rest load. `freeze`: any unsettled change fails the run before
 * the batch loads, and the checkpoint stays.
 */
export const SCHEMA_CHANGE_POLICIES = ['quarantine', 'freeze'] as const;
export interface SchemaChangePolicy {
  policy: (typeof SCHEMA_CHANGE_POLICIES)[number];
  /** Accept a suggested rename at this confidence or above, as an operator would; undefined: never. */
  autoAcceptAt?: number | undefined;
}
/** The safe default: hold back what breaks the contract, load the rest, never accept a rename by itself. */
export const DEFAULT_SCHEMA_CHANGE_POLICY: SchemaChangePolicy = Object.freeze({ policy: 'quarantine' });

/** A source-defined position in its upstream (page number, array offset, CSV byte offset...). JSON only. */
export type Cursor = Record<string, unknown>;

export interface FailureInjection {
  /** Fail once this many records have been committed by the run. */
  afterRecords: number;
  mode: FailureMode;
}

export interface RunCounts {
  fetched: number;
  inserted: number;
  unchanged: number;
  invalid: number;
}

/**
 * What `etl replay` re-reads from the raw store: the payloads one run read, those fetched since a time (ISO
 * 8601), or the source's records still in quarantine.
 */
export type ReplaySelection = { run: string } | { since: string } | { quarantined: true };

export interface IngestInput {
  source: string;
  trigger: Trigger;
  failure?: FailureInjection;
  /** Continue as new once history has this many events (default 2,000). */
  maxHistoryEvents?: number;
  /** Set only by continue-as-new: where the previous run of the chain stopped. */
  carry?: { cursor: Cursor; counts: RunCounts; batches: number; failure?: FailureInjection };
}

/** A replay (workflow replaySource): the same run, re-normalizing these stored payloads instead of fetching. */
export interface ReplayInput extends IngestInput {
  replay: ReplaySelection;
}

export interface IngestResult {
  runId: string;
  source: string;
  /** degraded: records were held back (etl_runs.status_reason says why). */
  status: 'succeeded' | 'degraded';
  counts: RunCounts;
  batches: number;
}

export interface Progress {
  source: string;
  runId: string;
  phase: 'starting' | 'fetching' | 'loading' | 'finishing' | 'done' | 'failed';
  batches: number;
  counts: RunCounts;
  cursor: Cursor | null;
}

export const ZERO_COUNTS: RunCounts = Object.freeze({ fetched: 0, inserted: 0, unchanged: 0, invalid: 0 });

export function addCounts(a: RunCounts, b: RunCounts): RunCounts {
  return {
    fetched: a.fetched + b.fetched,
    inserted: a.inserted + b.inserted,
    unchanged: a.unchanged + b.unchanged,
    invalid: a.invalid + b.invalid,
  };
}
