/**
 * What a load does once its upstream changed shape, through the real activities (test/support/ingest.ts) against
 * the market simulator's rename-field fault: the policies (quarantine, freeze, opt-in auto-accept), the reason a
 * held-back record carries, the run's status, and a rename settled by a field mapping.
 */
import { randomUUID } from 'node:crypto';
import { createActivities } from '../../activities';
import { acceptSchemaChange, ignoreSchemaChange } from '../../src/db/field-mappings';
import { quarantine } from '../../src/db/quarantine';
import { recordSchemaChanges } from '../../src/db/schema-changes';
import { judgeFinishedRun } from '../../src/db/run-outcome';
import type { Sources } from '../../src/sources';
import type { Simulator } from '../../src/simulator/server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ingest, simulatedSources } from '../support/ingest';
import { testLogger } from '../support/logger';

let db: TestDatabase;
let simulator: Simulator;
let sources: Sources;
beforeAll(async () => {
  ({ simulator, sources } = await simulatedSources({ coins: 80, seed: 21 }));
});
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  simulator.clearFaults();
  await db.drop();
});
afterAll(async () => {
  await simulator.close();
});

const renamePrice = () => simulator.setFault({ kind: 'rename-field', source: 'coingecko', field: 'current_price', times: Infinity });

async function runRow(runId: string) {
  const [row] = await db.sql<{ status: string; status_reason: string | null; fetched: number; invalid: number; inserted: number }[]>`
    SELECT status, status_reason, fetched, invalid, inserted FROM etl_runs WHERE run_id = ${runId}`;
  return row;
}
const changeOf = async (field: string) => {
  const [row] = await db.sql<{ id: string; status: string; resolution: string | null; mapping_version: number | null }[]>`
    SELECT id, status, resolution, mapping_version FROM schema_changes WHERE source = 'coingecko' AND field = ${field}`;
  return row;
};
const checkpoint = async () =>
  (await db.sql<{ batch_id: string; complete: boolean }[]>`SELECT batch_id, complete FROM etl_checkpoints WHERE source = 'coingecko'`)[0];

describe('policy quarantine (the default)', () => {
  test('When a required field is renamed, then every record is held back with a reason naming the change, and the run is degraded, not succeeded', async () => {
    renamePrice();
    const run = await ingest(db.sql, sources, 'coingecko', 50);
    expect(run.status).toBe('degraded');
    const row = await runRow(run.runId);
    expect(row).toMatchObject({ status: 'degraded', inserted: 0, invalid: row?.fetched });
    expect(row?.status_reason).toMatch(
      new RegExp(`^held back ${row?.fetched} of ${row?.fetched} records: schema change: current_price missing; current_price_renamed present \\(confidence 0\\.\\d+\\)`),
    );

    const reasons = await db.sql<{ reason: string }[]>`SELECT DISTINCT split_part(reason, '. ', 1) AS reason FROM quarantine WHERE run_id = ${run.runId}`;
    expect(reasons).toHaveLength(1);
    expect(reasons[0]?.reason).toMatch(/^schema change: current_price missing; current_price_renamed present \(confidence 0\.\d+\)$/);
    const [link] = await db.sql<{ records: string; held_back: string }[]>`SELECT records, held_back FROM schema_change_runs WHERE run_id = ${run.runId}`;
    expect(link).toEqual({ records: String(row?.fetched), held_back: String(row?.fetched) });
  });

  test('When the upstream is as usual, then the run succeeds, with no reason', async () => {
    const run = await ingest(db.sql, sources, 'coingecko', 50);
    expect(run.status).toBe('succeeded');
    expect(await runRow(run.runId)).toMatchObject({ status: 'succeeded', status_reason: null, invalid: 0 });
  });

  test('When a rename is accepted, then the next run reads the field through the mapping and loads every record', async () => {
    renamePrice();
    await ingest(db.sql, sources, 'coingecko', 50);
    const change = await changeOf('current_price');
    const settled = await acceptSchemaChange(db.sql, { id: Number(change?.id), by: 'cli' });
    expect(settled).toMatchObject({ status: 'accepted', mapping_version: 1, resolution: 'current_price mapped from current_price_renamed (mapping v1, by cli)' });
    const [mapping] = await db.sql<{ mapping: unknown }[]>`SELECT mapping FROM field_mappings WHERE source = 'coingecko' AND version = 1`;
    expect(mapping?.mapping).toEqual({ current_price: 'current_price_renamed' });

    const next = await ingest(db.sql, sources, 'coingecko', 50);
    expect(next.status).toBe('succeeded');
    expect(next.counts.invalid).toBe(0);
    expect(next.counts.inserted).toBe(next.counts.fetched);
    const [prices] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM quotes WHERE run_id = ${next.runId} AND price_usd > 0`;
    expect(prices?.n).toBe(next.counts.fetched);
    expect(await changeOf('current_price')).toMatchObject({ status: 'accepted' });
  });

  test('When the upstream renames the field again after a mapping, then the change opens again', async () => {
    renamePrice();
    await ingest(db.sql, sources, 'coingecko', 50);
    await acceptSchemaChange(db.sql, { id: Number((await changeOf('current_price'))?.id), by: 'api', from: 'no_such_field' });
    const again = await ingest(db.sql, sources, 'coingecko', 50);
    expect(again.status).toBe('degraded');
    expect(await changeOf('current_price')).toMatchObject({ status: 'open', resolution: null, mapping_version: null });
  });

  test('When a change is ignored, then later runs leave it ignored and still hold the records back', async () => {
    renamePrice();
    await ingest(db.sql, sources, 'coingecko', 50);
    await ignoreSchemaChange(db.sql, { id: Number((await changeOf('current_price'))?.id), by: 'cli' });
    const again = await ingest(db.sql, sources, 'coingecko', 50);
    expect(again.status).toBe('degraded');
    expect(again.counts.inserted).toBe(0);
    expect(await changeOf('current_price')).toMatchObject({ status: 'ignored', resolution: 'ignored by cli' });
  });
});

describe('policy freeze', () => {
  test('When a field is renamed, then the run fails non-retryably before anything of the batch loads, and the checkpoint stays', async () => {
    await ingest(db.sql, sources, 'coingecko', 50);
    const before = await checkpoint();
    const [{ quotes } = { quotes: 0 }] = await db.sql<{ quotes: number }[]>`SELECT count(*)::int AS quotes FROM quotes`;
    renamePrice();
    const failure = await ingest(db.sql, sources, 'coingecko', 50, { policy: 'freeze' }).catch((err: unknown) => err);
    expect(failure).toMatchObject({ name: 'SchemaChangeFrozenError' });
    expect((failure as Error).message).toMatch(/policy freeze\): #\d+ current_price missing; current_price_renamed present \(confidence 0\.\d+\)\. Nothing of batch .* was loaded/);
    expect(await checkpoint()).toEqual(before);
    const [after] = await db.sql<{ quotes: number; quarantined: number }[]>`
      SELECT (SELECT count(*)::int FROM quotes) AS quotes, (SELECT count(*)::int FROM quarantine) AS quarantined`;
    expect(after).toEqual({ quotes, quarantined: 0 });
    expect(await changeOf('current_price')).toMatchObject({ status: 'open' });
  });

  test('When the frozen change is accepted, then the next run goes on from the checkpoint and loads', async () => {
    renamePrice();
    await expect(ingest(db.sql, sources, 'coingecko', 50, { policy: 'freeze' })).rejects.toMatchObject({ name: 'SchemaChangeFrozenError' });
    await acceptSchemaChange(db.sql, { id: Number((await changeOf('current_price'))?.id), by: 'cli' });
    const next = await ingest(db.sql, sources, 'coingecko', 50, { policy: 'freeze' });
    expect(next).toMatchObject({ status: 'succeeded', counts: { invalid: 0 } });
    expect(next.counts.inserted).toBeGreaterThan(0);
  });
});

describe('opt-in auto-accept', () => {
  test('When a rename scores above the configured confidence, then it is accepted by itself, recorded like a manual one, and the batch loads', async () => {
    renamePrice();
    const run = await ingest(db.sql, sources, 'coingecko', 50, { policy: 'quarantine', autoAcceptAt: 0.8 });
    expect(run).toMatchObject({ status: 'succeeded', counts: { invalid: 0 } });
    expect(run.counts.inserted).toBe(run.counts.fetched);
    const change = await changeOf('current_price');
    expect(change).toMatchObject({ status: 'accepted', mapping_version: 1 });
    expect(change?.resolution).toMatch(/^current_price mapped from current_price_renamed \(mapping v1, by auto: confidence 0\.\d+ ≥ 0\.8\)$/);
  });

  test('When the threshold is above the rename\'s confidence, then nothing is accepted and the records are held back', async () => {
    renamePrice();
    const run = await ingest(db.sql, sources, 'coingecko', 50, { policy: 'quarantine', autoAcceptAt: 1 });
    expect(run.status).toBe('degraded');
    expect(await changeOf('current_price')).toMatchObject({ status: 'open', mapping_version: null });
  });
});

describe('a sharp fall in valid records', () => {
  async function seedRuns(source: string, runs: { invalid: number; minutesAgo: number }[]): Promise<string[]> {
    const ids: string[] = [];
    for (const [i, r] of runs.entries()) {
      const runId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      await db.sql`
        INSERT INTO etl_runs (run_id, workflow_id, temporal_run_id, source, trigger, status, started_at, finished_at, fetched, invalid)
        VALUES (${runId}, 'etl-x', ${runId}, ${source}, 'cli', 'succeeded', now() - make_interval(mins => ${r.minutesAgo}),
                now() - make_interval(mins => ${r.minutesAgo}) + interval '1 minute', 100, ${r.invalid})`;
      ids.push(runId);
    }
    return ids;
  }
  test('When a run\'s valid share falls far below its source\'s recent runs, then it is degraded, with both shares', async () => {
    const ids = await seedRuns('csv', [{ invalid: 1, minutesAgo: 40 }, { invalid: 2, minutesAgo: 30 }, { invalid: 1, minutesAgo: 20 }, { invalid: 45, minutesAgo: 10 }]);
    expect(await judgeFinishedRun(db.sql, ids[3] as string)).toEqual({
      status: 'degraded',
      reason: 'held back 45 of 100 records: 55% valid, against a median of 99% over the previous 3 runs',
    });
  });

  test('When a source always sends that many bad records, then the same share is a success', async () => {
    const ids = await seedRuns('csv', [{ invalid: 44, minutesAgo: 40 }, { invalid: 46, minutesAgo: 30 }, { invalid: 45, minutesAgo: 20 }, { invalid: 45, minutesAgo: 10 }]);
    expect(await judgeFinishedRun(db.sql, ids[3] as string)).toEqual({ status: 'succeeded' });
  });

  test('When no record of a run was valid, then it is degraded even without history', async () => {
    const ids = await seedRuns('csv', [{ invalid: 100, minutesAgo: 10 }]);
    expect(await judgeFinishedRun(db.sql, ids[0] as string)).toEqual({ status: 'degraded', reason: 'held back 100 of 100 records: no record was valid' });
  });
});

describe('counting and settling stay right when loads and operators interleave', () => {
  test('When a frozen batch is loaded again (a retry), then its records are counted once', async () => {
    renamePrice();
    const activities = createActivities({ sql: db.sql, sources, log: testLogger, batchSize: 50, schemaChanges: { coingecko: { policy: 'freeze' } } });
    const runId = randomUUID();
    const { cursor } = await activities.startRun({ runId, workflowId: 'etl-coingecko', temporalRunId: runId, source: 'coingecko', trigger: 'cli', failure: undefined });
    const batchId = `${runId}:0`;
    const fetched = await activities.fetchBatch({ source: 'coingecko', runId, batchId, cursor });
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(activities.loadBatch({ source: 'coingecko', runId, batchId, committedBefore: 0 })).rejects.toMatchObject({ name: 'SchemaChangeFrozenError' });
    }
    const [row] = await db.sql<{ records_affected: string; records: string }[]>`
      SELECT c.records_affected, r.records FROM schema_changes c JOIN schema_change_runs r ON r.change_id = c.id WHERE c.field = 'current_price'`;
    expect(row).toEqual({ records_affected: String(fetched.fetched), records: String(fetched.fetched) });
  });

  test('When an operator accepts while a load read the batch under the older mapping, then the acceptance stands', async () => {
    renamePrice();
    await ingest(db.sql, sources, 'coingecko', 50);
    const id = Number((await changeOf('current_price'))?.id);
    await acceptSchemaChange(db.sql, { id, by: 'api' }); // mapping v1
    const change = { kind: 'required_missing' as const, field: 'current_price', breaking: true, records: 5 };
    const runId = randomUUID();
    await recordSchemaChanges(db.sql, { source: 'coingecko', runId, batchId: 'read-under-v0', mappingVersion: 0, changes: [change] });
    expect(await changeOf('current_price')).toMatchObject({ status: 'accepted', mapping_version: 1 });
    // Read under v1 and still showing: the mapping no longer covers the upstream.
    const [again] = await recordSchemaChanges(db.sql, { source: 'coingecko', runId, batchId: 'read-under-v1', mappingVersion: 1, changes: [change] });
    expect(again).toMatchObject({ status: 'open', announce: true });
  });

  test('When a held-back record loads under an accepted mapping, then the next run releases it; when a released one fails again, it is held again', async () => {
    renamePrice();
    const drifted = await ingest(db.sql, sources, 'coingecko', 50);
    await acceptSchemaChange(db.sql, { id: Number((await changeOf('current_price'))?.id), by: 'cli' });
    const next = await ingest(db.sql, sources, 'coingecko', 50); // the same payloads: the same raw rows
    const held = async () => (await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM quarantine WHERE released_at IS NULL`)[0]?.n;
    expect(await held()).toBe(0);
    const [released] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM quarantine WHERE released_by_run_id = ${next.runId}`;
    expect(released?.n).toBe(drifted.counts.fetched);

    const [one] = await db.sql<{ raw_id: string; source_record_id: string; payload: unknown }[]>`SELECT raw_id, source_record_id, payload FROM quarantine LIMIT 1`;
    await quarantine(db.sql, { source: 'coingecko', runId: 'later', records: [{ rawId: String(one?.raw_id), sourceRecordId: String(one?.source_record_id), reason: 'today: bad', payload: one?.payload }] });
    const [row] = await db.sql<{ reason: string; run_id: string; released_at: Date | null }[]>`SELECT reason, run_id, released_at FROM quarantine WHERE raw_id = ${String(one?.raw_id)}`;
    expect(row).toEqual({ reason: 'today: bad', run_id: 'later', released_at: null });
  });

  test('When a replay names a run of another source, then it is refused as non-retryable and recorded as failed', async () => {
    const paprika = await ingest(db.sql, sources, 'coinpaprika', 50);
    const activities = createActivities({ sql: db.sql, sources, log: testLogger, batchSize: 50 });
    const runId = randomUUID();
    await expect(
      activities.startRun({ runId, workflowId: 'etl-coingecko', temporalRunId: runId, source: 'coingecko', trigger: 'cli', failure: undefined, replay: { run: paprika.runId } }),
    ).rejects.toMatchObject({ name: 'InvalidReplayError', message: `no run ${paprika.runId} of coingecko to replay` });
  });
});
