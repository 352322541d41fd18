/**
 * Loads through the real activities (test/support/ingest.ts) from the market simulator, whose faults reshape
 * every record as an upstream's schema change would, and reads what was recorded in schema_changes.
 */
import type { Sources } from '../../src/sources';
import type { Simulator } from '../../src/simulator/server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ingest, simulatedSources } from '../support/ingest';

let db: TestDatabase;
let simulator: Simulator;
let sources: Sources;
beforeAll(async () => {
  [db, { simulator, sources }] = await Promise.all([createTestDatabase(), simulatedSources({ coins: 120, seed: 9 })]);
});
afterAll(async () => {
  await simulator.close();
  await db.drop();
});
afterEach(() => simulator.clearFaults());

interface ChangeRow {
  kind: string;
  field: string;
  breaking: boolean;
  suggested_field: string | null;
  confidence: string | null;
  records_affected: string;
  first_run_id: string;
  last_run_id: string;
  status: string;
}
const changesOf = (source: string) => db.sql<ChangeRow[]>`SELECT * FROM schema_changes WHERE source = ${source} ORDER BY kind, field`;

test('When the upstream matches its contract, then nothing is recorded and the batch becomes the baseline', async () => {
  await ingest(db.sql, sources, 'coingecko', 50);
  expect(await changesOf('coingecko')).toEqual([]);
  const [baseline] = await db.sql<{ records: number }[]>`SELECT (profile->>'records')::int AS records FROM source_profiles WHERE source = 'coingecko'`;
  expect(baseline?.records).toBeGreaterThan(0);
});

test('When CoinGecko renames current_price, then one open breaking change names the new field, and later runs update it', async () => {
  simulator.setFault({ kind: 'rename-field', source: 'coingecko', field: 'current_price', times: Infinity });
  const first = await ingest(db.sql, sources, 'coingecko', 50);
  const [change, ...others] = await changesOf('coingecko');
  expect(others).toEqual([]);
  expect(change).toMatchObject({
    kind: 'required_missing', field: 'current_price', breaking: true, suggested_field: 'current_price_renamed',
    records_affected: String(first.counts.fetched), first_run_id: first.runId, last_run_id: first.runId, status: 'open',
  });
  expect(Number(change?.confidence)).toBeGreaterThanOrEqual(0.85);
  // The records are held back, none loaded with a made-up price.
  expect(first.counts).toMatchObject({ inserted: 0, invalid: first.counts.fetched });

  const second = await ingest(db.sql, sources, 'coingecko', 50);
  const [again] = await changesOf('coingecko');
  expect(again).toMatchObject({
    first_run_id: first.runId, last_run_id: second.runId,
    records_affected: String(first.counts.fetched + second.counts.fetched),
  });
});

test('When CoinPaprika renames a nested field, then its dotted path and the suggestion are recorded', async () => {
  await ingest(db.sql, sources, 'coinpaprika', 60); // the baseline
  simulator.setFault({ kind: 'rename-field', source: 'coinpaprika', field: 'quotes.USD.price', times: Infinity });
  await ingest(db.sql, sources, 'coinpaprika', 60);
  expect(await changesOf('coinpaprika')).toMatchObject([
    { kind: 'required_missing', field: 'quotes.USD.price', suggested_field: 'quotes.USD.price_renamed', breaking: true },
  ]);
});
