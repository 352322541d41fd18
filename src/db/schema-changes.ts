import type { SchemaChange } from '../contracts/drift';
import type { BatchProfile, FieldProfile } from '../contracts/profile';
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

/**
 * Records the changes a batch showed, one row per (source, kind, field): a change seen before gets this run as
 * its last, its latest suggestion and the batch's records added. In the load's transaction, which the batch
 * ledger runs once, so a retried load never counts a batch twice. Returns the changes seen for the first time.
 */
export async function recordSchemaChanges(
  db: Db,
  args: { source: string; runId: string; changes: readonly SchemaChange[] },
): Promise<SchemaChange[]> {
  if (args.changes.length === 0) return [];
  const c = args.changes;
  const batch = c.map((x) => ({
    kind: x.kind, field: x.field, breaking: x.breaking, observed_type: x.observedType ?? null,
    suggested_field: x.suggested?.field ?? null, confidence: x.suggested?.confidence ?? null,
    evidence: x.suggested?.evidence ?? null, records: x.records,
  }));
  // One JSON document for the whole batch of changes, as the raw store does (src/db/raw.ts).
  const rows = await db<{ field: string; kind: string; fresh: boolean }[]>`
    INSERT INTO schema_changes AS s (source, kind, field, breaking, observed_type, suggested_field, confidence, evidence,
                                     records_affected, first_run_id, last_run_id)
    SELECT ${args.source}, t.kind, t.field, t.breaking, t.observed_type, t.suggested_field, t.confidence,
           t.evidence, t.records, ${args.runId}, ${args.runId}
      FROM jsonb_to_recordset(${db.json(batch as never)}) AS t(kind text, field text, breaking boolean,
           observed_type text, suggested_field text, confidence numeric, evidence jsonb, records bigint)
    ON CONFLICT (source, kind, field) DO UPDATE
      SET breaking = excluded.breaking, observed_type = excluded.observed_type,
          suggested_field = excluded.suggested_field, confidence = excluded.confidence, evidence = excluded.evidence,
          records_affected = s.records_affected + excluded.records_affected,
          last_run_id = excluded.last_run_id, last_seen_at = now()
    RETURNING field, kind, (xmax = 0) AS fresh`;
  const fresh = new Set(rows.filter((r) => r.fresh).map((r) => `${r.kind}\u0000${r.field}`));
  return c.filter((x) => fresh.has(`${x.kind}\u0000${x.field}`));
}
