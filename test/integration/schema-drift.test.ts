/**
 * The repair loop of a schema change on a Temporal dev server and real PostgreSQL: the upstream renames a field,
 * the run holds every record back, an operator accepts the suggested mapping, and `etl replay` loads what was
 * held back from the raw store, without fetching. The proof is equality with a clean run over the same upstream.
 */
import { writeFile } from 'node:fs/promises';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { acceptSchemaChange } from '../../src/db/field-mappings';
import type { Sql } from '../../src/db/sql';
import type { IngestResult, ReplaySelection } from '../../src/shared/types';
import { startIngest, startReplay } from '../../src/temporal/start-run';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { Processes } from '../support/processes';
import { createHarness, type Harness } from '../support/etl';
import { eventually } from '../support/eventually';
import { snapshot } from '../support/snapshot';
import { bundleWorkflows, devServerEnvironment } from '../support/temporal';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let client: Client;

beforeAll(async () => {
  [env, bundle] = await Promise.all([devServerEnvironment(), bundleWorkflows()]);
  client = env.client;
});
const processes = new Processes();
afterAll(async () => {
  await processes.stopAll();
  await env?.teardown();
});

const COINS = 700;

async function scenario<T>(body: (h: Harness, db: TestDatabase) => Promise<T>, settings: Record<string, string> = {}): Promise<T> {
  const db = await createTestDatabase();
  const harness = await createHarness({ env, sql: db.sql, bundle, coins: COINS, settings });
  try {
    return await body(harness, db);
  } finally {
    await harness.close();
    await db.drop();
  }
}

async function ingest(h: Harness, source = 'coingecko'): Promise<IngestResult> {
  const run = await startIngest(client, { source, trigger: 'cli', taskQueue: h.taskQueue });
  return client.workflow.getHandle(run.workflowId).result();
}

async function replay(h: Harness, selection: ReplaySelection, source = 'coingecko'): Promise<IngestResult> {
  const run = await startReplay(client, { source, trigger: 'cli', taskQueue: h.taskQueue, selection });
  expect(run.started).toBe(true);
  return client.workflow.getHandle(run.workflowId).result();
}

/** What a user reads: the snapshot's business rows, and each asset's canonical symbol and name. */
async function businessRows(sql: Sql) {
  const { quotes, latest, assets } = await snapshot(sql);
  const named = await sql<{ k: string }[]>`SELECT symbol || '|' || name AS k FROM assets ORDER BY 1`;
  return { quotes, latest, assets, named: named.map((r) => r.k) };
}

async function driftAndAccept(h: Harness, db: TestDatabase): Promise<IngestResult> {
  h.simulator.setFault({ kind: 'rename-field', source: 'coingecko', field: 'current_price', times: Infinity });
  const drifted = await ingest(h);
  h.simulator.clearFaults();
  const [change] = await db.sql<{ id: string }[]>`SELECT id FROM schema_changes WHERE field = 'current_price' AND status = 'open'`;
  expect(await acceptSchemaChange(db.sql, { id: Number(change?.id), by: 'cli' })).toMatchObject({ mapping_version: 1 });
  return drifted;
}

let clean: Awaited<ReturnType<typeof businessRows>>;
/** CoinGecko's listings among the simulator's coins: what a clean run fetches. */
let listed: number;

describe('accept and replay a drifted field', () => {
  beforeAll(async () => {
    clean = await scenario((h, db) => h.withWorker(async () => {
      const run = await ingest(h);
      expect(run).toMatchObject({ status: 'succeeded', counts: { invalid: 0 } });
      listed = run.counts.fetched;
      return businessRows(db.sql);
    }));
    expect(listed).toBeGreaterThan(2 * 250); // several batches of ETL_BATCH_SIZE (test/support/etl.ts)
    expect(clean.quotes).toHaveLength(listed);
  });

  test('When the held-back records are replayed after the rename is accepted, then the data equals a clean run\'s, and a second replay changes nothing', async () => {
    await scenario((h, db) => h.withWorker(async () => {
      const drifted = await driftAndAccept(h, db);
      expect(drifted).toMatchObject({ status: 'degraded', counts: { inserted: 0, invalid: listed } });
      const requests = h.simulator.requests.count();

      const replayed = await replay(h, { quarantined: true });
      expect(replayed).toMatchObject({ status: 'succeeded', counts: { fetched: listed, inserted: listed, invalid: 0 } });
      expect(h.simulator.requests.count()).toBe(requests); // nothing fetched
      expect(await businessRows(db.sql)).toEqual(clean);
      const [held] = await db.sql<{ held: number; released: number }[]>`
        SELECT count(*) FILTER (WHERE released_at IS NULL)::int AS held, count(*) FILTER (WHERE released_by_run_id = ${replayed.runId})::int AS released
          FROM quarantine`;
      expect(held).toEqual({ held: 0, released: listed });

      const before = await snapshot(db.sql);
      const again = await replay(h, { run: drifted.runId });
      expect(again).toMatchObject({ status: 'succeeded', counts: { fetched: listed, inserted: 0, unchanged: listed, invalid: 0 } });
      expect(await snapshot(db.sql)).toEqual(before);
      const [run] = await db.sql<{ mode: string; selection: unknown }[]>`SELECT mode, selection FROM etl_runs WHERE run_id = ${again.runId}`;
      expect(run).toEqual({ mode: 'replay', selection: { run: drifted.runId } });
    }));
  });

  test('When the worker stops in the middle of a replay, then the replay goes on where it was on the next worker and ends equal to a clean run', async () => {
    await scenario(async (h, db) => {
      const runId = await h.withWorker(async () => {
        await driftAndAccept(h, db);
        const run = await startReplay(client, { source: 'coingecko', trigger: 'cli', taskQueue: h.taskQueue, selection: { quarantined: true } });
        // The worker goes as soon as the first replayed batch has committed: the rest is left to the next one.
        await eventually('a first replayed batch committed', async () => {
          const [loaded] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM etl_batches WHERE run_id = ${run.runId} AND loaded_at IS NOT NULL`;
          return (loaded?.n ?? 0) >= 1;
        }, { intervalMs: 5 });
        return run.runId;
      });
      const [midway] = await db.sql<{ status: string; batches: number }[]>`SELECT status, batches FROM etl_runs WHERE run_id = ${runId}`;
      expect(midway?.status).toBe('running');
      expect(midway?.batches).toBeLessThan(Math.ceil(listed / h.config.etl.batchSize));

      const result: IngestResult = await h.withWorker(() => client.workflow.getHandle('etl-coingecko').result());
      expect(result).toMatchObject({ runId, status: 'succeeded', counts: { fetched: listed, inserted: listed, invalid: 0 } });
      expect(await businessRows(db.sql)).toEqual(clean);
    });
  });

  test('When a run of the source is in flight, then a replay is refused and the running one is returned', async () => {
    await scenario(async (h) => {
      const running = await startIngest(client, { source: 'coingecko', trigger: 'cli', taskQueue: h.taskQueue });
      const refused = await startReplay(client, { source: 'coingecko', trigger: 'cli', taskQueue: h.taskQueue, selection: { quarantined: true } });
      expect(refused).toEqual({ source: 'coingecko', workflowId: 'etl-coingecko', runId: running.runId, started: false });
      await h.withWorker(() => client.workflow.getHandle(running.workflowId).result());
    });
  });
});

describe('policies on the dev server', () => {
  test('When coingecko is frozen and a field is renamed, then the run fails at once with a non-retryable SchemaChangeFrozenError, nothing loads, and after accepting the next run goes on and loads', async () => {
    await scenario((h, db) => h.withWorker(async () => {
      h.simulator.setFault({ kind: 'rename-field', source: 'coingecko', field: 'current_price', times: Infinity });
      const run = await startIngest(client, { source: 'coingecko', trigger: 'cli', taskQueue: h.taskQueue });
      const failure = await client.workflow.getHandle(run.workflowId).result().catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const activity = (failure as WorkflowFailedError).cause;
      expect(activity).toBeInstanceOf(ActivityFailure);
      const cause = (activity as ActivityFailure).cause as ApplicationFailure;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause.type).toBe('SchemaChangeFrozenError');
      expect(cause.message).toMatch(/current_price missing; current_price_renamed present/);
      // One attempt: the retry policy names the type as non-retryable.
      const history = await client.workflow.getHandle(run.workflowId).fetchHistory();
      const loadAttempts = history.events?.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes?.attempt);
      expect(loadAttempts?.every((attempt) => attempt === 1)).toBe(true);

      const [row] = await db.sql<{ status: string; error: string }[]>`SELECT status, error FROM etl_runs WHERE run_id = ${run.runId}`;
      expect(row?.status).toBe('failed');
      expect(row?.error).toMatch(/policy freeze/);
      const [loaded] = await db.sql<{ quotes: number; checkpoints: number; quarantined: number }[]>`
        SELECT (SELECT count(*)::int FROM quotes) AS quotes, (SELECT count(*)::int FROM etl_checkpoints) AS checkpoints,
               (SELECT count(*)::int FROM quarantine) AS quarantined`;
      expect(loaded).toEqual({ quotes: 0, checkpoints: 0, quarantined: 0 });

      const [change] = await db.sql<{ id: string }[]>`SELECT id FROM schema_changes WHERE field = 'current_price'`;
      await acceptSchemaChange(db.sql, { id: Number(change?.id), by: 'cli' });
      const next = await ingest(h); // the upstream is still renamed: the mapping reads it
      expect(next).toMatchObject({ status: 'succeeded', counts: { invalid: 0 } });
      expect(next.counts.inserted).toBe(next.counts.fetched);
    }), { SCHEMA_CHANGE_POLICY_COINGECKO: 'freeze' });
  });

  test('When CoinPaprika renames a nested field and auto-accept is on for it, then the run accepts the rename itself and loads every record', async () => {
    await scenario((h, db) => h.withWorker(async () => {
      expect(await ingest(h, 'coinpaprika')).toMatchObject({ status: 'succeeded' }); // the baseline
      h.simulator.setFault({ kind: 'rename-field', source: 'coinpaprika', field: 'quotes.USD.price', times: Infinity });
      h.simulator.tick();
      const run = await ingest(h, 'coinpaprika');
      expect(run).toMatchObject({ status: 'succeeded', counts: { invalid: 0 } });
      // Coins whose price moved in the tick are new quotes, read from the renamed field; the rest are unchanged.
      expect(run.counts.inserted).toBeGreaterThan(0);
      expect(run.counts.inserted + run.counts.unchanged).toBe(run.counts.fetched);
      const changes = await db.sql<{ field: string; status: string; resolution: string }[]>`
        SELECT field, status, resolution FROM schema_changes WHERE source = 'coinpaprika'`;
      expect(changes).toEqual([
        { field: 'quotes.USD.price', status: 'accepted', resolution: expect.stringMatching(/^quotes\.USD\.price mapped from quotes\.USD\.price_renamed \(mapping v1, by auto: confidence 0\.\d+ ≥ 0\.8\)$/) },
      ]);
    }), { SCHEMA_AUTO_ACCEPT_CONFIDENCE_COINPAPRIKA: '0.8' });
  });

  test('When a required field goes missing with nothing in its place, then the run is degraded naming it, and there is no suggestion to accept', async () => {
    await scenario((h, db) => h.withWorker(async () => {
      h.simulator.setFault({ kind: 'missing-field', source: 'coingecko', field: 'symbol', times: Infinity });
      const run = await ingest(h);
      expect(run.status).toBe('degraded');
      const [row] = await db.sql<{ status_reason: string }[]>`SELECT status_reason FROM etl_runs WHERE run_id = ${run.runId}`;
      expect(row?.status_reason).toBe(`held back ${run.counts.fetched} of ${run.counts.fetched} records: schema change: symbol missing (${run.counts.fetched} records)`);
      const [change] = await db.sql<{ id: string; suggested_field: string | null }[]>`SELECT id, suggested_field FROM schema_changes WHERE field = 'symbol'`;
      expect(change?.suggested_field).toBeNull();
      await expect(acceptSchemaChange(db.sql, { id: Number(change?.id), by: 'cli' })).rejects.toThrow(/has no suggested rename; name the field to map it from/);
    }));
  });
});

describe('a CSV file whose header changes', () => {
  const rows = (at: string) => [
    `btc,BTC,Bitcoin,64000.50,${at}`,
    `eth,ETH,Ethereum,3100.25,${at}`,
    `sol,SOL,Solana,145.10,${at}`,
  ];
  const file = (header: string, at: string) => [header, ...rows(at)].join('\n') + '\n';
  const HEADER = 'id,symbol,name,price_usd,last_updated';

  async function csvScenario(second: string) {
    return scenario((h, db) => h.withWorker(async () => {
      await writeFile(h.csvPath, file(HEADER, '2026-01-01T00:00:00Z'));
      expect(await ingest(h, 'csv')).toMatchObject({ status: 'succeeded', counts: { fetched: 3, invalid: 0 } });
      await writeFile(h.csvPath, file(second, '2026-01-02T00:00:00Z'));
      const run = await ingest(h, 'csv');
      if (second !== HEADER) {
        expect(run).toMatchObject({ status: 'degraded', counts: { fetched: 3, invalid: 3 } });
        const [change] = await db.sql<{ id: string; kind: string; field: string; suggested_field: string; confidence: string }[]>`
          SELECT id, kind, field, suggested_field, confidence FROM schema_changes WHERE source = 'csv' AND status = 'open'`;
        expect(change).toMatchObject({ kind: 'required_missing', field: 'price_usd', suggested_field: 'PriceUSD' });
        expect(Number(change?.confidence)).toBeGreaterThanOrEqual(0.9);
        const [reason] = await db.sql<{ reason: string }[]>`SELECT reason FROM quarantine WHERE source = 'csv' LIMIT 1`;
        expect(reason?.reason).toMatch(/^schema change: price_usd missing; PriceUSD present \(confidence /);
        await acceptSchemaChange(db.sql, { id: Number(change?.id), by: 'cli' });
        expect(await replay(h, { quarantined: true }, 'csv')).toMatchObject({ status: 'succeeded', counts: { inserted: 3, invalid: 0 } });
      }
      return businessRows(db.sql);
    }));
  }

  test('When a column is renamed, then the change is suggested from the header names and values, and accept + replay equals a file that never changed', async () => {
    const cleanCsv = await csvScenario(HEADER);
    expect(cleanCsv.quotes).toHaveLength(6);
    expect(await csvScenario('id,symbol,name,PriceUSD,last_updated')).toEqual(cleanCsv);
  });
});

describe('etl replay', () => {
  test('When the CLI replays the quarantined records, then it waits for the workflow and they leave quarantine', async () => {
    await scenario((h, db) => h.withWorker(async () => {
      await driftAndAccept(h, db);
      const cliEnv = { ...process.env, DATABASE_URL: db.url, TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: h.taskQueue, LOG_LEVEL: 'info' };
      const out = await processes.cliOutput(['replay', 'coingecko', '--quarantined', '--wait'], cliEnv);
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/"msg":"replay finished"/);
      const [held] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM quarantine WHERE released_at IS NULL`;
      expect(held?.n).toBe(0);
    }));
  });

  test.each([
    [['replay', 'coingecko'], /^replay needs exactly one of --quarantined, --run RUN_ID, --since TIME$/],
    [['replay', 'coingecko', '--quarantined', '--since', '2026-01-01'], /^replay needs exactly one of/],
    [['replay', 'coingecko', '--run', 'last-tuesday'], /^--run must be a run id \(a UUID\), got "last-tuesday"$/],
    [['replay', 'coingecko', '--since', 'yesterday'], /^--since must be a time \(ISO 8601/],
    [['replay', 'bitstamp', '--quarantined'], /^replay needs a source \(known: coingecko, coinpaprika, csv\)$/],
  ])('When the CLI is called as etl %j, then it stops with one line saying what is wrong', async (args, message) => {
    const out = await processes.cliOutput(args, { ...process.env, LOG_LEVEL: 'silent' });
    expect(out.code).toBe(1);
    expect(out.stderr.trim()).toMatch(message);
  });
});
