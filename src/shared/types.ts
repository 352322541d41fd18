/**
 * Workflow inputs and outputs. Workflow-safe and small by design: cursors, ids and counts travel through
 * workflow history, never records.
 */
export type Trigger = 'schedule' | 'api' | 'cli';
export type FailureMode = 'once' | 'fatal';

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

export interface IngestInput {
  source: string;
  trigger: Trigger;
  failure?: FailureInjection;
  /** Continue as new once history has this many events (default 2,000). */
  maxHistoryEvents?: number;
  /** Set only by continue-as-new: where the previous run of the chain stopped. */
  carry?: { cursor: Cursor; counts: RunCounts; batches: number; failure?: FailureInjection };
}

export interface IngestResult {
  runId: string;
  source: string;
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
