import type { SavedCheckpoint } from '../sources/types';
import type { Cursor } from '../shared/types';
import type { Db } from './sql';

/** The source's checkpoint, and the run that wrote it. */
export async function readCheckpoint(db: Db, source: string): Promise<(SavedCheckpoint & { runId: string }) | null> {
  const [row] = await db<{ cursor: Cursor; complete: boolean; runId: string }[]>`
    SELECT cursor, complete, run_id AS "runId" FROM etl_checkpoints WHERE source = ${source}`;
  return row ?? null;
}

/** Always called inside the transaction that commits the data the checkpoint covers. */
export async function saveCheckpoint(
  db: Db,
  args: { source: string; cursor: Cursor; complete: boolean; runId: string; batchId: string; watermark: Date | null },
): Promise<void> {
  await db`
    INSERT INTO etl_checkpoints (source, cursor, complete, run_id, batch_id, watermark, updated_at)
    VALUES (${args.source}, ${db.json(args.cursor as never)}, ${args.complete}, ${args.runId}, ${args.batchId},
            ${args.watermark}, now())
    ON CONFLICT (source) DO UPDATE
      SET cursor = excluded.cursor, complete = excluded.complete, run_id = excluded.run_id,
          batch_id = excluded.batch_id, updated_at = now(),
          watermark = GREATEST(etl_checkpoints.watermark, excluded.watermark)`;
}
