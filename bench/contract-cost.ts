import { watchContract } from '../activities/watch-contract';
import { readRaw } from '../src/db/raw';
import type { Sql } from '../src/db/sql';
import type { Source } from '../src/sources/types';
import { performance } from './timing';

export interface ContractCost {
  /** Time inside watchContract (mapping, profile, drift detection, baseline read and write) over the run's batches. */
  seconds: number;
  batches: number;
  records: number;
}

class RollBack extends Error {}

/**
 * What watching the contract costs a load: after an end-to-end run, each of its batches read again and passed
 * through the very function loadBatch calls, in a transaction rolled back afterwards. Only the watch is timed,
 * not the read, so the figure is the part of loadBatch's time that profiling adds.
 */
export async function measureContractCost(sql: Sql, source: Source): Promise<ContractCost> {
  const batches = await sql<{ batch_id: string; raw_ids: string[]; run_id: string }[]>`
    SELECT batch_id, raw_ids::text[] AS raw_ids, run_id FROM etl_batches WHERE source = ${source.name} ORDER BY created_at`;
  let seconds = 0;
  let records = 0;
  for (const batch of batches) {
    await sql
      .begin(async (tx) => {
        const payloads = (await readRaw(tx, batch.raw_ids)).map((r) => r.payload);
        const start = performance.now();
        await watchContract(tx, { source, runId: batch.run_id, batchId: batch.batch_id, payloads, policy: { policy: 'quarantine' } });
        seconds += (performance.now() - start) / 1000;
        records += payloads.length;
        throw new RollBack();
      })
      .catch((err: unknown) => {
        if (!(err instanceof RollBack)) throw err;
      });
  }
  return { seconds, batches: batches.length, records };
}
