import type { ChangeKind } from '../contracts/drift';
import type { FieldMapping } from '../contracts/mapping';
import type { SchemaChangeStatus } from './schema-change-queries';
import type { Db, Sql, Tx } from './sql';
import { ConflictError } from './conflict';

/**
 * Settling schema changes: accepting one (a rename becomes a new version of the source's field mapping),
 * or ignoring it. Every way in (API, CLI, auto-accept in a load) comes through here, so each is recorded alike.
 */

export interface CurrentMapping {
  /** 0 before any mapping was written. */
  version: number;
  mapping: FieldMapping;
}

/** Who settled a change: an operator through the API or CLI, or a load auto-accepting a confident rename. */
export type SettledBy = 'api' | 'cli' | 'auto';

export interface Settlement {
  id: number;
  source: string;
  kind: string;
  field: string;
  status: Exclude<SchemaChangeStatus, 'open'>;
  resolution: string;
  /** The mapping version an accepted rename wrote; null otherwise. */
  mapping_version: number | null;
}

/** Refused because of the change's state: settled already, or no field to map it from. The API answers 409. */
export class SettlementConflict extends ConflictError {
  override readonly name = 'SettlementConflict';
}

/** Kinds a mapping repairs: the contract field is gone, and the upstream sends it under another name. */
const MAPPABLE_KINDS: ReadonlySet<string> = new Set<ChangeKind>(['required_missing', 'optional_missing']);
export const isMappable = (kind: string): boolean => MAPPABLE_KINDS.has(kind);

export async function currentMapping(db: Db, source: string): Promise<CurrentMapping> {
  const [row] = await db<{ version: number; mapping: Record<string, string> }[]>`
    SELECT version, mapping FROM field_mappings WHERE source = ${source} ORDER BY version DESC LIMIT 1`;
  return row ? { version: row.version, mapping: row.mapping } : { version: 0, mapping: {} };
}

/**
 * Accepts a change. A missing field is mapped from `from` when given (a mapping written by hand), else from the
 * suggested rename; other kinds are acknowledged (the new shape is fine) without a mapping. Undefined when there
 * is no such change.
 */
export async function acceptSchemaChange(
  db: Sql | Tx,
  args: { id: number; from?: string | undefined; by: SettledBy; note?: string },
): Promise<Settlement | undefined> {
  return inTransaction(db, async (tx) => {
    const change = await lockChange(tx, args.id);
    if (!change) return undefined;
    if (change.status === 'accepted') throw new SettlementConflict(`schema change ${args.id} is accepted already (${change.resolution})`);
    const from = args.from ?? (MAPPABLE_KINDS.has(change.kind) ? change.suggested_field : null);
    if (args.from !== undefined && !MAPPABLE_KINDS.has(change.kind)) {
      throw new SettlementConflict(`schema change ${args.id} is ${change.kind}: only a missing field can be mapped from another`);
    }
    if (MAPPABLE_KINDS.has(change.kind) && !from && change.kind === 'required_missing') {
      throw new SettlementConflict(`schema change ${args.id}: ${change.field} has no suggested rename; name the field to map it from`);
    }
    let version: number | null = null;
    let resolution = `acknowledged by ${args.by}`;
    if (from) {
      // One writer of a source's mapping at a time: versions never collide, none is lost.
      await tx`SELECT pg_advisory_xact_lock(hashtext(${`field_mappings:${change.source}`}))`;
      const current = await currentMapping(tx, change.source);
      version = current.version + 1;
      resolution = `${change.field} mapped from ${from} (mapping v${version}, by ${args.by}${args.note ? `: ${args.note}` : ''})`;
      await tx`
        INSERT INTO field_mappings (source, version, mapping, change_id, note)
        VALUES (${change.source}, ${version}, ${tx.json({ ...current.mapping, [change.field]: from })},
                ${args.id}, ${resolution})`;
    }
    return settle(tx, { id: args.id, status: 'accepted', resolution, version });
  });
}

/** Ignores a change: it stays recorded, no longer counts against health, and later sightings stay ignored. */
export async function ignoreSchemaChange(db: Sql | Tx, args: { id: number; by: SettledBy }): Promise<Settlement | undefined> {
  return inTransaction(db, async (tx) => {
    const change = await lockChange(tx, args.id);
    if (!change) return undefined;
    if (change.status !== 'open') throw new SettlementConflict(`schema change ${args.id} is ${change.status} already (${change.resolution})`);
    return settle(tx, { id: args.id, status: 'ignored', resolution: `ignored by ${args.by}`, version: null });
  });
}

interface ChangeRow {
  source: string;
  kind: string;
  field: string;
  status: string;
  suggested_field: string | null;
  resolution: string | null;
}

async function lockChange(tx: Tx, id: number): Promise<ChangeRow | undefined> {
  const [row] = await tx<ChangeRow[]>`
    SELECT source, kind, field, status, suggested_field, resolution FROM schema_changes WHERE id = ${id} FOR UPDATE`;
  return row;
}

async function settle(
  tx: Tx,
  args: { id: number; status: Exclude<SchemaChangeStatus, 'open'>; resolution: string; version: number | null },
): Promise<Settlement> {
  const [row] = await tx<Settlement[]>`
    UPDATE schema_changes
       SET status = ${args.status}, resolution = ${args.resolution}, resolved_at = now(), mapping_version = ${args.version}
     WHERE id = ${args.id}
    RETURNING id::int, source, kind, field, status, resolution, mapping_version`;
  return row as Settlement;
}

/** The load settles inside its own transaction; the API and CLI open one. */
function inTransaction<T>(db: Sql | Tx, work: (tx: Tx) => Promise<T>): Promise<T> {
  return 'savepoint' in db ? work(db) : (db.begin(work) as Promise<T>);
}
