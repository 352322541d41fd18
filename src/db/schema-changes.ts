import type { SchemaChange } from '../contracts/drift';
import type { BatchProfile, FieldProfile } from '../contracts/profile';
import type { SchemaChangeStatus } from './schema-change-queries';
import type { Db } from './sql';

/** The source's baseline profile (source_profiles), if a batch has been accepted yet. */
export async function readBaselineProfile(db: Db, source: string): Promise<BatchProfile | undefined> {
  const [row] = await db<{ profile: { records: number; fields: FieldProfile[] } }[]>`
    SELECT profile FROM source_profiles WHERE source = ${source}`;
  return row ? { records: row.profile.records, fields: new Map(row.profile.fields.map((f) => [f.path, f])) } : undefined;
}

/** Makes `profile` the source's baseline: called in the load's transaction for a batch that showed no change. */
export async function saveBaselineProfile(db: Db, args: { source: string; runId: string; profile: BatchProfile }): Promise<void> {
  const profile = { records: args.profile.records, fields: [...args.profile.fields.values()] };
  await db`
    INSERT INTO source_profiles (source, profile, run_id)
    VALUES (${args.source}, ${db.json(profile as never)}, ${args.runId})
    ON CONFLICT (source) DO UPDATE SET profile = excluded.profile, run_id = excluded.run_id, updated_at = now()`;
}

/** A change as recorded: its row, its status now, and whether it is new (or open again) and to be announced. */
export type RecordedChange = SchemaChange & { id: number; status: SchemaChangeStatus; announce: boolean };

/**
 * Records the changes a batch showed, one row per (source, kind, field): a change seen before gets this run as
 * its last, its latest suggestion and the batch's records added, and the run is linked to it
 * (schema_change_runs). A batch's records count once per change, however often the batch is recorded
 * (schema_change_batches). A rename that was mapped, read under that mapping and still shows (the upstream moved
 * on) is open again; one accepted after this batch was read stays accepted, and a change acknowledged or ignored
 * stays settled. Called in the load's transaction, with the batch locked.
 */
export async function recordSchemaChanges(
  db: Db,
  args: { source: string; runId: string; batchId: string; mappingVersion: number; changes: readonly SchemaChange[] },
): Promise<RecordedChange[]> {
  if (args.changes.length === 0) return [];
  const c = args.changes;
  const batch = c.map((x) => ({
    kind: x.kind, field: x.field, breaking: x.breaking, observed_type: x.observedType ?? null,
    suggested_field: x.suggested?.field ?? null, confidence: x.suggested?.confidence ?? null,
    evidence: x.suggested?.evidence ?? x.order ?? null, records: x.records,
  }));
  const read = args.mappingVersion;
  // One JSON document for the whole batch of changes, as the raw store does (src/db/raw.ts). The CTEs `before`
  // and `counted` see the tables as they were before this statement.
  const rows = await db<{ id: number; field: string; kind: string; status: RecordedChange['status']; announce: boolean }[]>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${db.json(batch as never)}) AS t(kind text, field text, breaking boolean,
             observed_type text, suggested_field text, confidence numeric, evidence jsonb, records bigint)
    ), before AS (
      SELECT id, kind, field, status, mapping_version FROM schema_changes WHERE source = ${args.source}
    ), counted AS (
      SELECT b.kind, b.field FROM schema_change_batches sb JOIN before b ON b.id = sb.change_id
       WHERE sb.batch_id = ${args.batchId}
    ), batch AS (
      SELECT t.*, CASE WHEN EXISTS (SELECT 1 FROM counted k WHERE k.kind = t.kind AND k.field = t.field)
                       THEN 0 ELSE t.records END AS adds
        FROM input t
    ), upserted AS (
      INSERT INTO schema_changes AS s (source, kind, field, breaking, observed_type, suggested_field, confidence,
                                       evidence, records_affected, first_run_id, last_run_id)
      SELECT ${args.source}, t.kind, t.field, t.breaking, t.observed_type, t.suggested_field, t.confidence,
             t.evidence, t.adds, ${args.runId}, ${args.runId}
        FROM batch t
      ON CONFLICT (source, kind, field) DO UPDATE
        SET breaking = excluded.breaking, observed_type = excluded.observed_type,
            suggested_field = excluded.suggested_field, confidence = excluded.confidence, evidence = excluded.evidence,
            records_affected = s.records_affected + excluded.records_affected,
            last_run_id = excluded.last_run_id, last_seen_at = now(),
            status = CASE WHEN s.mapping_version <= ${read} THEN 'open' ELSE s.status END,
            resolved_at = CASE WHEN s.mapping_version <= ${read} THEN NULL ELSE s.resolved_at END,
            resolution = CASE WHEN s.mapping_version <= ${read} THEN NULL ELSE s.resolution END,
            mapping_version = CASE WHEN s.mapping_version <= ${read} THEN NULL ELSE s.mapping_version END
      RETURNING s.id, s.kind, s.field, s.status
    ), linked AS (
      INSERT INTO schema_change_runs AS l (run_id, change_id, records)
      SELECT ${args.runId}, u.id, t.adds FROM upserted u JOIN batch t USING (kind, field)
      ON CONFLICT (run_id, change_id) DO UPDATE SET records = l.records + excluded.records
    ), marked AS (
      INSERT INTO schema_change_batches (batch_id, change_id) SELECT ${args.batchId}, u.id FROM upserted u
      ON CONFLICT DO NOTHING
    )
    SELECT u.id::int, u.kind, u.field, u.status, COALESCE(b.status IS NULL OR b.mapping_version <= ${read}, false) AS announce
      FROM upserted u LEFT JOIN before b USING (kind, field)`;
  const byKey = new Map(rows.map((r) => [`${r.kind}\u0000${r.field}`, r]));
  return c.map((x) => {
    const row = byKey.get(`${x.kind}\u0000${x.field}`);
    if (!row) throw new Error(`schema_changes: ${x.kind} ${x.field} was not recorded`);
    return { ...x, id: row.id, status: row.status, announce: row.announce };
  });
}

/** Records held back (quarantined naming the change) per change, in the load's transaction: what /runs reports. */
export async function addHeldBack(db: Db, args: { runId: string; byChange: ReadonlyMap<number, number> }): Promise<void> {
  if (args.byChange.size === 0) return;
  const rows = [...args.byChange].map(([change_id, n]) => ({ change_id, n }));
  await db`
    UPDATE schema_change_runs l SET held_back = l.held_back + t.n
      FROM jsonb_to_recordset(${db.json(rows as never)}) AS t(change_id bigint, n bigint)
     WHERE l.run_id = ${args.runId} AND l.change_id = t.change_id`;
}
