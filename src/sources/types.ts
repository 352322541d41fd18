import type { z } from 'zod';
import type { ContractField } from '../contracts/contract';
import type { NormalizeOutcome } from '../schemas/quote';
import type { Cursor } from '../shared/types';

/**
 * The plug-in contract. A source is a small declarative unit: its settings, where a run starts, how to fetch
 * one page from a cursor, and how to map one raw record into a NormalizedQuote. One shared engine (the
 * workflow and its activities) runs every source the same way.
 */

/** One record exactly as the upstream sent it, plus what is needed to find it again. */
export interface SourceRecord {
  /** The upstream's own id for the record (coin id, CSV id column...). */
  id: string;
  payload: unknown;
  /** Where it came from, for people reading the quarantine: "page 3", "line 1207". */
  locator: string;
}

export interface Page {
  records: SourceRecord[];
  /** The position just past these records: saved as the checkpoint once they are loaded. */
  cursor: Cursor;
  /** true when the upstream has nothing more for this run. */
  done: boolean;
}

export interface SavedCheckpoint {
  cursor: Cursor;
  /** true when the run that saved it read the upstream to the end. */
  complete: boolean;
}

export interface FetchContext {
  /** The logical run (first Temporal run id of the chain): sources may cache a snapshot per run. */
  runId: string;
  signal?: AbortSignal;
}

export interface Source {
  readonly name: string;
  /** How often the Temporal Schedule starts this source, in milliseconds. */
  readonly scheduleIntervalMs: number;
  /**
   * The raw record as normalize() parses it: the fields the source reads, their types and which are required.
   * Its data contract (src/contracts/contract.ts) is derived from it.
   */
  readonly recordSchema?: z.ZodType;
  /**
   * The data contract of a source whose records no zod schema describes (CSV rows, read by header aliases):
   * the fields normalize() reads, declared as data. Takes precedence over one derived from `recordSchema`;
   * sourceContract() (src/contracts/contract.ts) answers for either.
   */
  readonly contract?: readonly ContractField[];
  /** Where a run begins: resume an unfinished run, skip what a finished one already read, or start over. */
  startCursor(saved: SavedCheckpoint | null): Promise<Cursor>;
  fetchPage(cursor: Cursor, context: FetchContext): Promise<Page>;
  normalize(record: SourceRecord): NormalizeOutcome;
}

/** How a source is declared: the env variables it reads (with its prefix) and a factory over the parsed values. */
export interface SourceDefinition<Settings = unknown> {
  readonly name: string;
  readonly settings: z.ZodType<Settings>;
  create(settings: Settings): Source;
}

export function defineSource<Settings>(definition: SourceDefinition<Settings>): SourceDefinition<Settings> {
  return definition;
}
