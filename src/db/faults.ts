import type { Db } from './sql';

/** True the first time it is called for a run: an injected failure fires once per workflow chain. */
export async function claimFaultInjection(db: Db, runId: string): Promise<boolean> {
  const rows = await db`
    INSERT INTO etl_fault_injections (run_id) VALUES (${runId}) ON CONFLICT DO NOTHING RETURNING run_id`;
  return rows.length === 1;
}
