import { setTimeout as sleep } from 'node:timers/promises';
import { workflowIdFor } from '../../src/shared/names';
import type { FailureInjection, ReplaySelection } from '../../src/shared/types';
import { SOURCE_NAMES } from '../../src/sources';
import { startIngest, startReplay, type StartedRun } from '../../src/temporal/start-run';
import type { FuzzStack } from './stack';

/**
 * Data for the fuzzer to find, made the way production makes it: workflow runs on the worker, reading the market
 * simulator (whose faults give schema drift), and the API's own POSTs. Every run status, both run modes, history
 * with several snapshots per listing, and schema changes in every status, so that the responses the fuzzer checks
 * against the document carry every optional and nullable field both ways. Returns what was made, for the log.
 */
export async function loadFuzzData(stack: FuzzStack): Promise<Record<string, unknown>> {
  const { simulator } = stack;
  const taskQueue = stack.config.temporal.taskQueue;
  const ingest = (source: string, failure?: FailureInjection) =>
    finished(stack, startIngest(stack.client, { source, trigger: 'cli', taskQueue, failure }));
  const replay = (source: string, selection: ReplaySelection) =>
    finished(stack, startReplay(stack.client, { source, trigger: 'cli', taskQueue, selection }));

  await Promise.all(SOURCE_NAMES.map((source) => ingest(source))); // one succeeded run of each source
  simulator.tick(3);
  await Promise.all([ingest('coingecko'), ingest('coinpaprika')]); // a second snapshot: history for from/to

  // Schema drift: a breaking rename (degraded run, records quarantined), an optional field gone (still succeeded).
  simulator.setFault({ kind: 'rename-field', source: 'coingecko', field: 'current_price', times: Infinity });
  await ingest('coingecko');
  simulator.clearFaults();
  simulator.setFault({ kind: 'missing-field', source: 'coingecko', field: 'total_volume', times: Infinity });
  await ingest('coingecko');
  simulator.clearFaults();
  // Left open on purpose: /health is degraded, and the fuzzer has a change of its own to settle.
  simulator.setFault({ kind: 'rename-field', source: 'coinpaprika', field: 'quotes.USD.price', times: Infinity });
  await ingest('coinpaprika');
  simulator.clearFaults();

  // Settled through the API: an accepted rename (mapping version 1) replayed from quarantine, an ignored change.
  await settle(stack, 'coingecko', 'current_price', 'accept');
  await settle(stack, 'coingecko', 'total_volume', 'ignore');
  await replay('coingecko', { quarantined: true });

  await ingest('coinpaprika', { afterRecords: 50, mode: 'fatal' }); // failed, checkpoint incomplete
  await cancelledRun(stack);
  await inFlightRun(stack); // still running while the fuzzer works

  const statuses = await stack.sql<{ status: string; mode: string; n: number }[]>`
    SELECT status, mode, count(*)::int AS n FROM etl_runs GROUP BY 1, 2 ORDER BY 1, 2`;
  const [counts] = await stack.sql<{ quotes: number; assets: number; quarantined: number; changes: string }[]>`
    SELECT (SELECT count(*)::int FROM quotes) AS quotes, (SELECT count(*)::int FROM assets) AS assets,
           (SELECT count(*)::int FROM quarantine) AS quarantined,
           (SELECT string_agg(status || ' ' || kind || ' ' || field, ', ' ORDER BY id) FROM schema_changes) AS changes`;
  return { runs: statuses.map((s) => `${s.mode} ${s.status} ${s.n}`).join(', '), ...counts };
}

/** Waits for a started run to end, whichever way; a failed or cancelled run is what some steps want. */
async function finished(stack: FuzzStack, started: Promise<StartedRun>): Promise<StartedRun> {
  const run = await started;
  await stack.client.workflow.getHandle(run.workflowId, run.runId).result().catch(() => undefined);
  return run;
}

/** POST /schema-changes/:id/accept or /ignore for the open change of `source` on `field`, as an operator would. */
async function settle(stack: FuzzStack, source: string, field: string, action: 'accept' | 'ignore'): Promise<void> {
  const page = (await (await fetch(`${stack.apiUrl}/schema-changes?source=${source}&status=open`)).json()) as {
    data: { id: number; field: string }[];
  };
  const change = page.data.find((c) => c.field === field);
  if (!change) throw new Error(`no open schema change of ${source} on ${field}: ${JSON.stringify(page)}`);
  const res = await fetch(`${stack.apiUrl}/schema-changes/${change.id}/${action}`, {
    method: 'POST',
    headers: { 'X-API-Key': stack.apiKey },
  });
  if (res.status !== 200) throw new Error(`${action} of schema change ${change.id}: ${res.status} ${await res.text()}`);
}

/** A run cancelled while its first fetch waits on a slow upstream: etl_runs says `cancelled`. */
async function cancelledRun(stack: FuzzStack): Promise<void> {
  stack.simulator.setFault({ kind: 'slow', source: 'coingecko', delayMs: 3_000, times: 1 });
  const run = await startIngest(stack.client, { source: 'coingecko', trigger: 'cli', taskQueue: stack.config.temporal.taskQueue });
  await untilRunRow(stack, run.runId);
  const handle = stack.client.workflow.getHandle(run.workflowId, run.runId);
  await handle.cancel();
  await handle.result().catch(() => undefined);
  stack.simulator.clearFaults();
}

/**
 * A run whose fetches wait on an upstream that answers only after the fuzzing: `running`, with live progress,
 * for GET /runs and /runs/:run_id; POST /etl/run for its source returns it. stopInFlightRuns ends it.
 */
async function inFlightRun(stack: FuzzStack): Promise<void> {
  stack.simulator.setFault({ kind: 'slow', source: 'coinpaprika', delayMs: 30 * 60_000, times: Infinity });
  const run = await startIngest(stack.client, { source: 'coinpaprika', trigger: 'cli', taskQueue: stack.config.temporal.taskQueue });
  await untilRunRow(stack, run.runId);
}

/** Cancels whatever run is still in flight, so the worker can drain at once. */
export async function stopInFlightRuns(stack: FuzzStack): Promise<void> {
  stack.simulator.clearFaults();
  await Promise.all(
    SOURCE_NAMES.map(async (source) => {
      const handle = stack.client.workflow.getHandle(workflowIdFor(source));
      const description = await handle.describe().catch(() => undefined);
      if (description?.status.name !== 'RUNNING') return;
      await handle.cancel();
      await handle.result().catch(() => undefined);
    }),
  );
}

async function untilRunRow(stack: FuzzStack, runId: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const [row] = await stack.sql`SELECT 1 FROM etl_runs WHERE run_id = ${runId}`;
    if (row) return;
    await sleep(50);
  }
  throw new Error(`run ${runId} never appeared in etl_runs`);
}
