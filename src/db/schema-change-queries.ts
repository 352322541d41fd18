import type { ChangeKind } from '../contracts/drift';
import type { Db } from './sql';

/**
 * Read side of schema_changes for the API, the CLI and metrics: the changes recorded, the ones a run met, the
 * open breaking ones /health reports, and totals. Writes live in schema-changes.ts and field-mappings.ts.
 */

/** schema_changes.status: open until an operator (or an auto-accepting load) settles it. */
export const SCHEMA_CHANGE_STATUSES = ['open', 'accepted', 'ignored'] as const;
export type SchemaChangeStatus = (typeof SCHEMA_CHANGE_STATUSES)[number];

/** How a schema_changes.id is written in a URL or on the command line: a positive whole number. */
export const SCHEMA_CHANGE_ID = /^[1-9][0-9]{0,14}$/;

export interface SchemaChangeView {
  id: number;
  source: string;
  kind: ChangeKind;
  field: string;
  breaking: boolean;
  observed_type: string | null;
  suggested_field: string | null;
  confidence: number | null;
  evidence: Record<string, unknown> | null;
  records_affected: number;
  first_run_id: string;
  last_run_id: string;
  first_seen_at: Date;
  last_seen_at: Date;
  status: SchemaChangeStatus;
  resolution: string | null;
  resolved_at: Date | null;
  mapping_version: number | null;
}

/** The columns of SchemaChangeView, from schema_changes aliased `c` (bigint and numeric as JS numbers). */
function changeColumns(db: Db) {
  return db`
    c.id::float8 AS id, c.source, c.kind, c.field, c.breaking, c.observed_type, c.suggested_field,
    c.confidence::float8 AS confidence, c.evidence, c.records_affected::float8 AS records_affected,
    c.first_run_id, c.last_run_id, c.first_seen_at, c.last_seen_at, c.status, c.resolution, c.resolved_at,
    c.mapping_version`;
}

/** Newest first (by when first seen), with the total the filters match. */
export async function listSchemaChanges(
  db: Db,
  args: { source?: string | undefined; status?: SchemaChangeStatus | undefined; limit: number; offset: number },
): Promise<{ rows: SchemaChangeView[]; total: number }> {
  const where = db`
    WHERE true
    ${args.source ? db`AND c.source = ${args.source}` : db``}
    ${args.status ? db`AND c.status = ${args.status}` : db``}`;
  const [rows, [count]] = await Promise.all([
    db<SchemaChangeView[]>`
      SELECT ${changeColumns(db)} FROM schema_changes c ${where} ORDER BY c.id DESC LIMIT ${args.limit} OFFSET ${args.offset}`,
    db<{ total: number }[]>`SELECT count(*)::int AS total FROM schema_changes c ${where}`,
  ]);
  return { rows, total: count?.total ?? 0 };
}

export async function getSchemaChange(db: Db, id: number): Promise<SchemaChangeView | undefined> {
  const [row] = await db<SchemaChangeView[]>`SELECT ${changeColumns(db)} FROM schema_changes c WHERE c.id = ${id}`;
  return row;
}

export interface RunSchemaChange {
  id: number;
  kind: ChangeKind;
  field: string;
  breaking: boolean;
  suggested_field: string | null;
  confidence: number | null;
  /** The change's status now, not when the run met it. */
  status: SchemaChangeStatus;
  /** This run's records that showed the change. */
  records: number;
}

/** The changes a run met (schema_change_runs), breaking first, then by the records that showed them. */
export async function schemaChangesOfRun(db: Db, runId: string): Promise<RunSchemaChange[]> {
  return db<RunSchemaChange[]>`
    SELECT c.id::float8 AS id, c.kind, c.field, c.breaking, c.suggested_field, c.confidence::float8 AS confidence,
           c.status, r.records::float8 AS records
      FROM schema_change_runs r JOIN schema_changes c ON c.id = r.change_id
     WHERE r.run_id = ${runId}
     ORDER BY c.breaking DESC, r.records DESC, c.id`;
}

export type OpenBreakingChange = Pick<
  SchemaChangeView,
  'id' | 'source' | 'kind' | 'field' | 'suggested_field' | 'confidence' | 'records_affected' | 'last_run_id' | 'last_seen_at'
>;

/** Open changes that hold records back: what makes /health say `degraded`. By source, oldest first. */
export async function openBreakingChanges(db: Db): Promise<OpenBreakingChange[]> {
  return db<OpenBreakingChange[]>`
    SELECT c.id::float8 AS id, c.source, c.kind, c.field, c.suggested_field, c.confidence::float8 AS confidence,
           c.records_affected::float8 AS records_affected, c.last_run_id, c.last_seen_at
      FROM schema_changes c
     WHERE c.status = 'open' AND c.breaking
     ORDER BY c.source, c.id`;
}

export interface SchemaChangeTotals {
  source: string;
  kind: ChangeKind;
  breaking: boolean;
  /** Distinct changes recorded, whatever their status. */
  changes: number;
  open: number;
}

/** Per source, kind and breaking: changes recorded and those still open. One aggregate, for /metrics. */
export async function schemaChangeTotals(db: Db): Promise<SchemaChangeTotals[]> {
  return db<SchemaChangeTotals[]>`
    SELECT source, kind, breaking, count(*)::int AS changes, (count(*) FILTER (WHERE status = 'open'))::int AS open
      FROM schema_changes GROUP BY source, kind, breaking`;
}
