import type { Db } from './sql';

export interface QuarantinedRecord {
  rawId: string;
  sourceRecordId: string;
  reason: string;
  payload: unknown;
}

/**
 * Keeps invalid records with the reason. A record quarantined before (same raw row) keeps its one row: held
 * again with today's reason and run when a replay had released it, left as it was while it is still held.
 */
export async function quarantine(
  db: Db,
  args: { source: string; runId: string; records: readonly QuarantinedRecord[] },
): Promise<void> {
  if (args.records.length === 0) return;
  const r = args.records;
  await db`
    INSERT INTO quarantine (source, source_record_id, raw_id, reason, payload, run_id)
    SELECT ${args.source}, t.id, t.raw_id, t.reason, t.payload::jsonb, ${args.runId}
      FROM unnest(${r.map((x) => x.sourceRecordId)}::text[], ${r.map((x) => x.rawId)}::bigint[],
                  ${r.map((x) => x.reason)}::text[], ${r.map((x) => JSON.stringify(x.payload))}::text[])
           AS t(id, raw_id, reason, payload)
    ON CONFLICT (raw_id) DO UPDATE
      SET reason = excluded.reason, run_id = excluded.run_id, released_at = NULL, released_by_run_id = NULL
      WHERE quarantine.released_at IS NOT NULL`;
}
