import { workflowIdFor } from '../../src/shared/names';
import type { Sql } from '../../src/db/sql';
import { snapshot, type DataSnapshot } from '../../test/support/snapshot';
import type { ChaosInfrastructure } from './infrastructure';
import { startRuns, type SystemUnderTest } from './system';

/** What a run's row in etl_runs must say after the failure: the same as after a clean run. */
export interface RunCounts {
  status: string;
  fetched: number;
  inserted: number;
  unchanged: number;
  invalid: number;
  batches: number;
}

/** A clean run of every source: what every scenario's tables and run counts must equal. */
export interface Baseline {
  data: DataSnapshot;
  runs: Record<string, RunCounts>;
}

export interface SourceOutcome {
  source: string;
  /** Batches committed when the failure was injected, of the clean run's total. */
  point: string;
  /** The longest wait between two of this source's committed batches after the injection: how long it was held up. */
  stallMs: number | undefined;
  counts: RunCounts | undefined;
  /** The clean run's counts for the source, that `counts` must equal. */
  clean: RunCounts | undefined;
  countsRight: boolean;
}

export interface ScenarioOutcome {
  failure: string;
  sources: SourceOutcome[];
  /** Every table equal, as row sets, to the clean run's. */
  rowsEqual: boolean;
  /** /health as it was seen, every change of status: `200 → 503 → 200`. */
  health: string;
  /** What went wrong beyond the counts and rows: a process that exited, a required health transition missing. */
  problems: string[];
}

export interface Injection {
  /** Injects the failure at the chosen point; resolves once the broken part is back. */
  inject(system: SystemUnderTest): Promise<void>;
  /** /health must have answered 503 at some point, and 200 at the end. */
  healthGoesDown?: boolean;
  /** No source may wait longer than this between two batches. */
  maxStallMs?: number;
}

/** A run's whole duration may not exceed this: past it something hangs, and the scenario fails saying so. */
const RUN_DEADLINE_MS = 240_000;
const POLL_MS = 200;

/**
 * One scenario: a run of every source at once; the failure injected once every source has committed at least
 * `point` batches (and none has finished); the runs awaited; then the tables and the runs' counts compared.
 */
export async function runScenario(options: {
  infra: ChaosInfrastructure;
  system: SystemUnderTest;
  sources: readonly string[];
  failure?: { name: string; injection: Injection; point: number };
  baseline?: Baseline;
}): Promise<{ outcome: ScenarioOutcome; baseline: Baseline }> {
  const { infra, system, sources, failure } = options;
  const health = new HealthWatch(system.apiUrl);
  const problems: string[] = [];
  await startRuns(infra.client, system, sources);

  const finished = () => Promise.allSettled(sources.map((source) => infra.client.workflow.getHandle(workflowIdFor(source)).result()));
  // The clean run is watched from its start, for the stall a run has without any failure.
  const atInjection = failure ? await waitForPoint(system.sql, sources, failure.point) : Object.fromEntries(sources.map((s) => [s, 0]));
  const watch = watchProgress(system.sql, atInjection);
  await failure?.injection.inject(system);

  const results = await Promise.race([finished(), sleep(RUN_DEADLINE_MS).then(() => undefined)]);
  // A run that ended (failed) without another batch never recovers: the watch stops with the runs.
  await watch.stop();
  if (!results) problems.push(`the runs did not finish within ${RUN_DEADLINE_MS / 1000} s`);
  results?.forEach((r, i) => r.status === 'rejected' && problems.push(`${sources[i]}: the run failed: ${String(r.reason)}`));
  await health.stop();
  if (failure?.injection.healthGoesDown && !/503/.test(health.seen())) problems.push('/health never answered 503 during the outage');
  if (!/200$/.test(health.seen())) problems.push(`/health did not end at 200 (${health.seen()})`);
  problems.push(...system.exited().map((p) => `${p} exited`), ...(await system.probes()));
  const maxStall = failure?.injection.maxStallMs ?? Infinity;
  for (const source of sources) {
    const stall = watch.longestStallMs(source) ?? 0;
    if (stall > maxStall) problems.push(`${source} waited ${(stall / 1000).toFixed(0)} s between two batches (at most ${maxStall / 1000} s)`);
  }

  const data = await snapshot(system.sql);
  const { runs, extra } = await runCounts(system.sql);
  problems.push(...extra);
  const baseline = options.baseline ?? { data, runs };
  const outcome: ScenarioOutcome = {
    failure: failure?.name ?? 'none (the clean run)',
    sources: sources.map((source) => ({
      source,
      point: failure ? `${atInjection[source]}/${baseline.runs[source]?.batches ?? '?'}` : '-',
      stallMs: watch.longestStallMs(source),
      counts: runs[source],
      clean: baseline.runs[source],
      countsRight: JSON.stringify(runs[source]) === JSON.stringify(baseline.runs[source]) && runs[source]?.status === 'succeeded',
    })),
    rowsEqual: JSON.stringify(data) === JSON.stringify(baseline.data),
    health: health.seen(),
    problems,
  };
  return { outcome, baseline };
}

/** Each source's run; a source with more than one (something started it again) is a problem, named. */
async function runCounts(sql: Sql): Promise<{ runs: Record<string, RunCounts>; extra: string[] }> {
  const rows = await sql<(RunCounts & { source: string; trigger: string })[]>`
    SELECT source, trigger, status, fetched, inserted, unchanged, invalid, batches FROM etl_runs ORDER BY started_at`;
  const extra = [...new Set(rows.map((r) => r.source))].flatMap((source) => {
    const of = rows.filter((r) => r.source === source);
    return of.length > 1 ? [`${source} ran ${of.length} times (${of.map((r) => `${r.trigger}: ${r.status}, ${r.inserted} inserted`).join('; ')})`] : [];
  });
  const runs = Object.fromEntries(rows.map(({ source, trigger: _, ...counts }) => [source, counts]));
  return { runs, extra };
}

/** Batches committed by each source's run in flight, once every one has at least `point`. */
async function waitForPoint(sql: Sql, sources: readonly string[], point: number): Promise<Record<string, number>> {
  for (const deadline = Date.now() + RUN_DEADLINE_MS; Date.now() < deadline; await sleep(20)) {
    const rows = await sql<{ source: string; status: string; batches: number }[]>`SELECT source, status, batches FROM etl_runs`;
    const finished = rows.filter((r) => r.status !== 'running');
    if (finished.length) throw new Error(`${finished.map((r) => r.source).join(', ')} finished before batch ${point}: make the runs longer`);
    if (rows.length === sources.length && rows.every((r) => r.batches >= point)) return Object.fromEntries(rows.map((r) => [r.source, r.batches]));
  }
  throw new Error(`the runs did not reach batch ${point} within ${RUN_DEADLINE_MS / 1000} s`);
}

/**
 * The longest wait between two committed batches of each source, from the injection until the runs end: how long
 * the failure held that source up (a clean run commits a batch every second or so). Polled, so within POLL_MS.
 */
function watchProgress(sql: Sql, atInjection: Record<string, number>) {
  let stopped = false;
  const since = Date.now();
  const last = new Map(Object.entries(atInjection).map(([source, batches]) => [source, { batches, at: since }]));
  const longest = new Map<string, number>();
  const done = (async () => {
    while (!stopped) {
      // While PostgreSQL is down this fails; the pool reconnects once it is back.
      const rows = await sql<{ source: string; batches: number }[]>`SELECT source, batches FROM etl_runs`.catch(() => []);
      const now = Date.now();
      for (const { source, batches } of rows) {
        const seen = last.get(source);
        if (!seen || batches === seen.batches) continue;
        longest.set(source, Math.max(longest.get(source) ?? 0, now - seen.at));
        last.set(source, { batches, at: now });
      }
      await sleep(POLL_MS);
    }
  })();
  return {
    longestStallMs: (source: string) => longest.get(source),
    async stop() {
      stopped = true;
      await done;
    },
  };
}

/** Polls /health for the whole scenario, keeping each change of status. */
class HealthWatch {
  private readonly statuses: string[] = [];
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(apiUrl: string) {
    this.loop = (async () => {
      while (!this.stopped) {
        const status = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(5_000) }).then((r) => String(r.status), () => 'down');
        if (this.statuses.at(-1) !== status) this.statuses.push(status);
        await sleep(POLL_MS);
      }
    })();
  }

  seen(): string {
    return this.statuses.join(' → ');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
