import type { ReplaySelection } from '../shared/types';
import type { Db } from './sql';

/**
 * The read side of `etl replay`: which stored raw payloads a replay re-reads, in raw-id order so a replay can
 * go on from the last id it committed, and releasing quarantined records that now load.
 */

/** The next `limit` raw ids of the selection after `afterRawId`. */
export async function selectReplayRawIds(
  db: Db,
  args: { source: string; selection: ReplaySelection; afterRawId: string; limit: number },
): Promise<string[]> {
  const { source, selection, afterRawId, limit } = args;
  const rows =
    'run' in selection
      ? // What the run read, whether it stored the payload itself or found it stored by an earlier run.
        // Ordered as numbers, not as the text they are returned as: the cursor is the last id of the page.
        await db<{ id: string }[]>`
          SELECT id::text AS id FROM (
            SELECT DISTINCT r.id
              FROM etl_batches b CROSS JOIN LATERAL unnest(b.raw_ids) AS r(id)
             WHERE b.run_id = ${selection.run} AND b.source = ${source} AND r.id > ${afterRawId}::bigint
             ORDER BY r.id LIMIT ${limit}) page
           ORDER BY page.id`
      : 'since' in selection
        ? await db<{ id: string }[]>`
            SELECT id::text AS id FROM raw_payloads
             WHERE source = ${source} AND fetched_at >= ${selection.since}::timestamptz AND id > ${afterRawId}::bigint
             ORDER BY id LIMIT ${limit}`
        : await db<{ id: string }[]>`
            SELECT raw_id::text AS id FROM quarantine
             WHERE source = ${source} AND released_at IS NULL AND raw_id > ${afterRawId}::bigint
             ORDER BY raw_id LIMIT ${limit}`;
  return rows.map((r) => r.id);
}

/**
 * Quarantined records that a load or a replay loaded leave quarantine; their rows stay, as what happened.
 * Returns how many. Cheap when none are held: the lookup is by quarantine's unique raw_id.
 */
export async function releaseQuarantined(db: Db, args: { runId: string; rawIds: readonly string[] }): Promise<number> {
  if (args.rawIds.length === 0) return 0;
  const rows = await db`
    UPDATE quarantine SET released_at = now(), released_by_run_id = ${args.runId}
     WHERE raw_id = ANY(${args.rawIds as string[]}::bigint[]) AND released_at IS NULL
    RETURNING raw_id`;
  return rows.length;
}

/**
 * Where a replay goes on: past the last raw id its committed batches covered (a reset run, or one started again
 * after its worker died before it got far), else from the start.
 */
export async function replayResumePoint(db: Db, runId: string): Promise<string> {
  const [row] = await db<{ after: string | null }[]>`
    SELECT max((cursor_after->>'afterRawId')::bigint)::text AS after
      FROM etl_batches WHERE run_id = ${runId} AND loaded_at IS NOT NULL`;
  return row?.after ?? '0';
}

/** Which source a run read, if the run exists: a replay of one run must be of that run's source. */
export async function sourceOfRun(db: Db, runId: string): Promise<string | undefined> {
  const [row] = await db<{ source: string }[]>`SELECT source FROM etl_runs WHERE run_id = ${runId}`;
  return row?.source;
}
