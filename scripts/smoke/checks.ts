import { Client, Connection } from '@temporalio/client';
import type { z } from 'zod';
import type { DataResponse } from '../../api/routes/data';
import type { HealthResponse } from '../../api/routes/health';
import type { RunResponse, RunsResponse } from '../../api/routes/runs';
import type { StatsResponse } from '../../api/routes/stats';
import { freePort } from '../../src/infra/temporal-binaries';
import { workflowIdFor } from '../../src/shared/names';
import { SOURCE_NAMES } from '../../src/sources';
import { getJson, GiveUp, postJson, waitFor } from './http';
import { checkVerbatim, psqlRows, README_COMMANDS, type ReadmeCommand, type ReadmeRun, type ShellResult } from './readme';
import { describeExit, type System } from './system';

type Health = z.infer<typeof HealthResponse>;
type Run = z.infer<typeof RunResponse>;
type RunPage = z.infer<typeof RunsResponse>;
type Stats = z.infer<typeof StatsResponse>;
type DataPage = z.infer<typeof DataResponse>;
type RunStatus = Run['status'];

interface RunsStarted {
  runs?: { source: string; run_id: string; started: boolean }[];
}

/** GET /__sim/health of the market simulator `--demo` runs. */
interface SimulatorHealth {
  geckoCoins: number;
  paprikaCoins: number;
  faults: unknown[];
  requests: Record<string, number>;
}

export interface SmokeDeps {
  system: System;
  /** What the system was given, for the start step's line. */
  setup: string;
  apiUrl: string;
  simulatorUrl: string;
  /** `cli` is undefined when there is none; `searched` says where it was looked for. */
  temporal: { address: string; namespace: string; cli: string | undefined; searched: string };
  readme: (name: ReadmeCommand, extra?: ReadmeRun) => Promise<ShellResult>;
  removeDataDir: () => Promise<string>;
  /** Plain `npm start` (the real APIs), on ports and a data directory of its own. */
  realApis: { system: System; apiUrl: string; temporalAddress: string; removeDataDir: () => Promise<string> };
}

/** The sources the simulator stands in for. */
const API_SOURCES = ['coingecko', 'coinpaprika'] as const;
/** Where `npm start` without --demo and without API keys fetches them from (the *_BASE_URL defaults), written out: the smoke test checks from outside. */
const REAL_HOSTS: Record<(typeof API_SOURCES)[number], string> = { coingecko: 'api.coingecko.com', coinpaprika: 'api.coinpaprika.com' };
/** The runbook's `--fail-after 1000`; the API injection asks for the same. */
const FAIL_AFTER = 1000;
const RATE_LIMIT = { times: 2, retryAfterSeconds: 3 };
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 90_000;

/** The smoke test's steps, in order; later ones use what earlier ones found (the listing size, the failed run). */
export function createChecks(deps: SmokeDeps) {
  const { system, apiUrl, simulatorUrl } = deps;
  let paprikaCoins = 0;
  let injected: { runId: string; offset: number } | undefined;

  return {
    async readme(): Promise<string> {
      const missing = await checkVerbatim();
      if (missing.length > 0) throw new Error(`README.md no longer says: ${missing.map((name) => `\`${README_COMMANDS[name]}\``).join(', ')}`);
      return `the ${Object.keys(README_COMMANDS).length} README commands this script runs are in README.md word for word`;
    },

    async start(): Promise<string> {
      if (!deps.temporal.cli) {
        throw new Error(`no Temporal CLI (looked in ${deps.temporal.searched}): \`npm test\` builds it once`);
      }
      const began = Date.now();
      await system.start();
      await system.waitUp(START_TIMEOUT_MS);
      return `\`${README_COMMANDS.start}\` up in ${seconds(Date.now() - began)} (${deps.setup})`;
    },

    async health(): Promise<string> {
      const health = await healthy();
      const { database, temporal, worker } = health.checks;
      return `GET /health 200 "${health.message}": ${database.detail}; ${temporal.detail}; ${worker.detail}`;
    },

    async ingest(): Promise<string> {
      const simulator = await simulatorHealth();
      paprikaCoins = simulator.paprikaCoins;
      const listed: Record<string, number> = { coingecko: simulator.geckoCoins, coinpaprika: simulator.paprikaCoins };
      let seen = '';
      const firstRuns = await waitFor(
        'a succeeded first run of every source in /runs',
        async () => {
          const runs = await Promise.all(SOURCE_NAMES.map(latestRun));
          seen = runs.map((run, i) => `${SOURCE_NAMES[i]} ${run?.status ?? 'no run'}`).join(', ');
          const bad = runs.find((run) => run?.status === 'failed' || run?.status === 'cancelled');
          if (bad) throw new GiveUp(`the first ${bad.source} run ${bad.status}: ${bad.error}`);
          return runs.every((run) => run?.status === 'succeeded') ? (runs as Run[]) : undefined;
        },
        { timeoutMs: 120_000, lastSeen: () => seen },
      );
      const latest: string[] = [];
      for (const source of API_SOURCES) {
        const run = firstRuns.find((r) => r.source === source) as Run;
        const { fetched, invalid } = run.counts;
        if (fetched !== listed[source]) throw new Error(`${source}: the first run fetched ${fetched} records; the simulator lists ${listed[source]}`);
        const total = (await api<DataPage>(`/data?source=${source}&limit=1`)).pagination.total;
        if (total !== fetched - invalid) throw new Error(`${source}: /data has ${total} latest quotes for ${fetched - invalid} valid records`);
        latest.push(`${source} ${total}`);
      }
      const stats = await api<Stats>('/stats');
      for (const source of SOURCE_NAMES) {
        const s = stats.sources.find((entry) => entry.source === source);
        if (!s || s.runs.succeeded < 1 || s.rows.normalized < 1) throw new Error(`/stats for ${source}: ${JSON.stringify(s?.runs)} rows ${JSON.stringify(s?.rows)}`);
      }
      const { runs, records_processed, rows } = stats.overall;
      if (runs.failed !== 0) throw new Error(`/stats counts ${runs.failed} failed runs`);
      return (
        `/data latest quotes: ${latest.join(', ')} (all the simulator lists); /runs: first runs of ${SOURCE_NAMES.join(', ')} succeeded; ` +
        `/stats: ${runs.succeeded} runs succeeded, ${records_processed} records, ${rows.raw} raw and ${rows.normalized} normalized rows`
      );
    },

    async injectFailure(): Promise<string> {
      const res = await postJson<RunsStarted>(`${apiUrl}/etl/run`, { source: 'coinpaprika', failAfterRecords: FAIL_AFTER, mode: 'fatal' });
      const started = res.body.runs?.[0];
      if (res.status !== 202 || !started?.started) throw new Error(`POST /etl/run answered ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      const failed = await waitForRun(started.run_id, 'failed', 60_000, ['succeeded', 'cancelled']);
      const committed = failed.counts.fetched;
      if (committed < FAIL_AFTER || committed >= paprikaCoins) {
        throw new Error(`the failed run committed ${committed} records; expected at least ${FAIL_AFTER} and fewer than ${paprikaCoins}`);
      }
      if (!failed.error?.includes('injected failure')) throw new Error(`the run failed, but not by injection: ${failed.error}`);
      const saved = await incompleteCheckpoint(committed);
      injected = { runId: started.run_id, offset: committed };
      return (
        `POST /etl/run {failAfterRecords: ${FAIL_AFTER}, mode: fatal}: run ${short(started.run_id)} failed with ${committed} of ${paprikaCoins} ` +
        `records committed in ${failed.batches} batches ("${failed.error}"); checkpoint (README psql): complete f, cursor ${saved}`
      );
    },

    async restartResume(): Promise<string> {
      if (!injected) throw new Error('no failed run to resume');
      const { runId: failedRun, offset } = injected;
      const stopped = await stopCleanly();
      await system.start();
      await system.waitUp(START_TIMEOUT_MS);
      await healthy();
      let seen = '';
      const resumed = await waitFor(
        'the first coinpaprika run after the restart to succeed',
        async () => {
          const run = await latestRun('coinpaprika');
          if (!run || run.run_id === failedRun) return undefined;
          seen = `${short(run.run_id)} ${run.status}`;
          if (run.status === 'failed' || run.status === 'cancelled') throw new GiveUp(`run ${seen}: ${run.error}`);
          return run.status === 'succeeded' ? run : undefined;
        },
        { timeoutMs: 120_000, lastSeen: () => seen },
      );
      const from = await startedFrom(resumed.run_id, offset);
      const rest = paprikaCoins - offset;
      if (resumed.counts.fetched !== rest) throw new Error(`the resumed run read ${resumed.counts.fetched} records, not the ${rest} after the checkpoint`);
      await noDuplicates();
      return (
        `${stopped}; started again on the same DATA_DIR: its first coinpaprika run ${short(resumed.run_id)} started from the checkpoint ` +
        `${from} and read the remaining ${rest} of ${paprikaCoins} records; README duplicate check: 0`
      );
    },

    async runbookReset(): Promise<string> {
      const failing = await deps.readme('failRun');
      if (failing.code === 0) throw new Error(`\`${README_COMMANDS.failRun}\` exited 0: the run should have failed`);
      const { runId } = cliRun(failing.stdout);
      const [newest] = psqlRows((await shell('recentRuns')).stdout);
      const committed = Number(newest?.fetched);
      if (newest?.run_id !== runId || newest.status !== 'failed' || !(committed >= FAIL_AFTER && committed < paprikaCoins)) {
        throw new Error(`README psql etl_runs: newest is ${JSON.stringify(newest)}; expected run ${runId} failed with ${FAIL_AFTER}+ records`);
      }
      const saved = await incompleteCheckpoint(committed);
      await shell('reset');
      const done = await waitForRun(runId, 'succeeded', 90_000, ['cancelled']);
      if (done.counts.fetched !== paprikaCoins) throw new Error(`after the reset the run counts ${done.counts.fetched} records, not ${paprikaCoins}`);
      const from = await startedFrom(runId, committed);
      await noDuplicates();
      return (
        `\`${README_COMMANDS.failRun}\` exited ${failing.code}; psql: run ${short(runId)} failed with ${committed} records, checkpoint ` +
        `incomplete at ${saved}; \`${README_COMMANDS.reset}\`: the same run started again from ${from} and succeeded with ` +
        `${paprikaCoins} records in all; README duplicate check: 0`
      );
    },

    /**
     * The README's other commands against the running system: the command-line block, the compose check, the
     * simulator on its own and both benchmarks at smoke size each exit 0; the servers among them (a worker, the
     * API on a port of its own, with and without --bootstrap, the simulator) are stopped with Ctrl-C once their
     * log says they are up. The command line's fatal run fails and leaves its run failed.
     */
    async cli(): Promise<string> {
      // With a coingecko run in flight (the restarted system's first run may still be going, and `run all`
      // starts one), `run coingecko` would return that run: wait for it, and fail a run first.
      const current = await latestRun('coingecko');
      if (current?.status === 'running') await waitForRun(current.run_id, 'succeeded', 120_000, ['failed', 'cancelled']);
      const failing = await deps.readme('failRunGecko');
      if (failing.code === 0) throw new Error(`\`${README_COMMANDS.failRunGecko}\` exited 0: the run should have failed`);
      const { runId } = cliRun(failing.stdout);
      const failed = await api<Run>(`/runs/${runId}`);
      if (failed.status !== 'failed' || failed.counts.fetched < 500) {
        throw new Error(`run ${short(runId)} is ${failed.status} with ${failed.counts.fetched} records; expected failed after 500+`);
      }

      const names = ['runAll', 'migrate', 'schedules', 'healthApi', 'healthWorker', 'worker', 'api', 'apiBootstrap', 'composeCheck', 'simulator', 'benchEtl', 'benchApi'] as const;
      const ownPort = { API_PORT: String(await freePort()) };
      const extra: Partial<Record<ReadmeCommand, ReadmeRun>> = {
        worker: { until: /"msg":"worker polling"/ },
        api: { until: /"msg":"API listening"/, env: ownPort },
        apiBootstrap: { until: /"msg":"bootstrap done/, env: ownPort },
        simulator: { until: /^http:\/\/\S+:4010/m },
      };
      // What the servers of the CLI log last when Ctrl-C stopped them in order.
      const stoppedCleanly: Partial<Record<ReadmeCommand, RegExp>> = {
        worker: /"msg":"worker stopped"/,
        api: /"msg":"API stopped"/,
        apiBootstrap: /"msg":"API stopped"/,
      };
      for (const name of names) {
        const result = await deps.readme(name, extra[name]);
        const output = (result.stderr || result.stdout).trim().slice(-300);
        if (result.code !== 0) throw new Error(`\`${README_COMMANDS[name]}\` exited ${result.code}: ${output}`);
        const stopped = stoppedCleanly[name];
        if (stopped && !stopped.test(result.stdout)) throw new Error(`\`${README_COMMANDS[name]}\` did not stop cleanly on Ctrl-C: ${output}`);
      }
      return (
        `\`${README_COMMANDS.failRunGecko}\` exited ${failing.code}, run ${short(runId)} failed with ${failed.counts.fetched} records; ` +
        `${names.map((name) => `\`${README_COMMANDS[name]}\``).join(', ')}: each exited 0, or came up and stopped cleanly on Ctrl-C`
      );
    },

    async rateLimit(): Promise<string> {
      const before = await simulatorHealth();
      const fault = { kind: 'rate-limit', source: 'coinpaprika', ...RATE_LIMIT };
      const queued = await postJson<unknown>(`${simulatorUrl}/__sim/faults`, fault);
      if (queued.status !== 201) throw new Error(`POST /__sim/faults answered ${queued.status}`);
      const { runId, started } = cliRun((await shell('nextRun')).stdout);
      if (!started) throw new Error('`npm run etl -- run coinpaprika` returned a run already in flight');
      const done = await waitForRun(runId, 'succeeded', 120_000, ['failed', 'cancelled']);
      const after = await simulatorHealth();
      const requests = (after.requests['/v1/tickers'] ?? 0) - (before.requests['/v1/tickers'] ?? 0);
      if (after.faults.length > 0) throw new Error(`the simulator still holds ${JSON.stringify(after.faults)}: not every 429 was served`);
      if (requests !== RATE_LIMIT.times + 1) throw new Error(`GET /v1/tickers was requested ${requests} times; expected ${RATE_LIMIT.times} (429) + 1`);
      const retry = await firstFetchAttempt(done);
      const minimumWaitMs = RATE_LIMIT.times * RATE_LIMIT.retryAfterSeconds * 1000;
      if (retry.attempt !== RATE_LIMIT.times + 1 || retry.failureType !== 'RateLimitedError' || retry.waitedMs < minimumWaitMs - 250) {
        throw new Error(`fetchBatch's history: attempt ${retry.attempt}, ${seconds(retry.waitedMs)} after scheduling, last failure ${retry.failureType} "${retry.failure}"`);
      }
      if (done.counts.fetched !== paprikaCoins) throw new Error(`the run fetched ${done.counts.fetched} records, not ${paprikaCoins}`);
      return (
        `the simulator answered ${RATE_LIMIT.times} of ${requests} GET /v1/tickers with 429 Retry-After ${RATE_LIMIT.retryAfterSeconds}s ` +
        `(its request counter; fault queue empty); fetchBatch waited and retried: attempt ${retry.attempt} began ${seconds(retry.waitedMs)} ` +
        `after scheduling, last failure ${retry.failureType} "${retry.failure}"; run ${short(runId)} (\`${README_COMMANDS.nextRun}\`) ` +
        `succeeded with ${done.counts.fetched} records in ${seconds((done.duration_seconds ?? 0) * 1000)}`
      );
    },

    /**
     * `npm start` without --demo targets the real APIs, out of reach offline: it still comes up healthy, ingests
     * the bundled CSV, and each API run keeps retrying its fetch with an error naming the real host; Ctrl-C
     * stops it cleanly with those runs in flight.
     */
    async realApis(): Promise<string> {
      const real = deps.realApis;
      const began = Date.now();
      await real.system.start();
      await real.system.waitUp(START_TIMEOUT_MS);
      const up = seconds(Date.now() - began);
      await healthy(real.apiUrl);
      const csv = await waitFor(
        'the first csv run to succeed',
        async () => {
          const [run] = (await api<RunPage>('/runs?source=csv&limit=1', real.apiUrl)).data;
          if (run?.status === 'failed') throw new GiveUp(`csv run failed: ${run.error}`);
          return run?.status === 'succeeded' ? run : undefined;
        },
        { timeoutMs: 90_000 },
      );
      const connection = await Connection.connect({ address: real.temporalAddress });
      const failures: string[] = [];
      try {
        const client = new Client({ connection, namespace: deps.temporal.namespace });
        for (const [source, host] of Object.entries(REAL_HOSTS)) {
          let seen = 'no fetch attempt yet';
          const failure = await waitFor(
            `${source}'s fetch to fail naming ${host}`,
            async () => {
              const pending = (await client.workflow.getHandle(workflowIdFor(source)).describe()).raw.pendingActivities ?? [];
              const message = pending.map((a) => a.lastFailure?.message).find(Boolean);
              if (message) seen = message;
              return message?.includes(host) ? message : undefined;
            },
            { timeoutMs: 90_000, lastSeen: () => seen },
          );
          const [run] = (await api<RunPage>(`/runs?source=${source}&limit=1`, real.apiUrl)).data;
          if (run?.status !== 'running') throw new Error(`the ${source} run is ${run?.status}; a fetch failure must leave it retrying`);
          failures.push(`${source} "${failure}"`);
        }
      } finally {
        await connection.close();
      }
      const stopped = await stopCleanly(real.system);
      return (
        `\`npm start\` up in ${up}, GET /health 200; csv run ${short(csv.run_id)} succeeded with ${csv.counts.fetched} records; ` +
        `runs in flight, retrying: ${failures.join('; ')}; ${stopped}; ${await real.removeDataDir()}`
      );
    },

    async stop(): Promise<string> {
      const stopped = system.running ? await stopCleanly() : 'the system was not running';
      return `${stopped}; ${await deps.removeDataDir()}`;
    },
  };

  async function api<T>(path: string, base = apiUrl): Promise<T> {
    const res = await getJson<T>(`${base}${path}`);
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
    return res.body;
  }

  function simulatorHealth(): Promise<SimulatorHealth> {
    return getJson<SimulatorHealth>(`${simulatorUrl}/__sim/health`).then((res) => res.body);
  }

  async function healthy(base = apiUrl): Promise<Health> {
    let seen = '';
    return waitFor(
      'GET /health 200',
      async () => {
        const res = await getJson<Health>(`${base}/health`);
        seen = `${res.status} ${res.body.message}`;
        return res.status === 200 ? res.body : undefined;
      },
      { timeoutMs: 90_000, lastSeen: () => seen },
    );
  }

  async function latestRun(source: string): Promise<Run | undefined> {
    return (await api<RunPage>(`/runs?source=${source}&limit=1`)).data[0] as Run | undefined;
  }

  async function waitForRun(runId: string, status: RunStatus, timeoutMs: number, giveUpOn: RunStatus[]): Promise<Run> {
    let seen = '';
    return waitFor(
      `run ${short(runId)} to be ${status}`,
      async () => {
        const run = await api<Run>(`/runs/${runId}`);
        seen = `${run.status}${run.error ? `: ${run.error}` : ''}`;
        if (giveUpOn.includes(run.status)) throw new GiveUp(`run ${short(runId)} ${seen}`);
        return run.status === status ? run : undefined;
      },
      { timeoutMs, lastSeen: () => seen },
    );
  }

  /** A README command that must succeed. */
  async function shell(name: ReadmeCommand): Promise<ShellResult> {
    const result = await deps.readme(name);
    if (result.code !== 0) throw new Error(`\`${README_COMMANDS[name]}\` exited ${result.code}: ${result.stderr.trim().slice(-300)}`);
    return result;
  }

  /** The coinpaprika checkpoint through the README's query: incomplete, at the offset the failed run reached. */
  async function incompleteCheckpoint(offset: number): Promise<string> {
    const row = psqlRows((await shell('checkpoints')).stdout).find((r) => r.source === 'coinpaprika');
    const cursor = row ? (JSON.parse(row.cursor as string) as { offset?: number }) : undefined;
    if (row?.complete !== 'f' || cursor?.offset !== offset) {
      throw new Error(`checkpoint ${JSON.stringify(row)}; expected complete f at offset ${offset}`);
    }
    return row.cursor as string;
  }

  async function noDuplicates(): Promise<void> {
    const [row] = psqlRows((await shell('duplicates')).stdout);
    if (row?.count !== '0') throw new Error(`README duplicate check: ${JSON.stringify(row)}`);
  }

  /** Where the run's latest start read from, as its startRun activity logged it. */
  async function startedFrom(runId: string, offset: number): Promise<string> {
    const starts = (await system.log()).filter((e) => e.msg === 'run started' && e.runId === runId);
    const last = starts.at(-1);
    const cursor = last?.cursor as { offset?: number } | undefined;
    if (cursor?.offset !== offset || last?.resumed !== true) {
      throw new Error(`run ${short(runId)} started from ${JSON.stringify(cursor)} (resumed: ${String(last?.resumed)}), not the checkpoint at ${offset}`);
    }
    return JSON.stringify(cursor);
  }

  /**
   * Ctrl-C, and what a clean stop looks like: npm gone (it exits on SIGINT itself, or 0), everything stopped in
   * order, no process left.
   */
  async function stopCleanly(which = system): Promise<string> {
    const exit = await which.interrupt(STOP_TIMEOUT_MS);
    if (exit.code !== 0 && exit.signal !== 'SIGINT') throw new Error(`after SIGINT npm start exited with ${describeExit(exit)}: ${await which.lastError()}`);
    const log = await which.log();
    const problems = log.filter((e) => typeof e.msg === 'string' && e.msg.startsWith('while stopping'));
    if (problems.length > 0) throw new Error(`stopping logged: ${problems.map((e) => e.msg).join('; ')}`);
    const stopped = log.filter((e) => typeof e.msg === 'string' && e.msg.startsWith('stopping ')).map((e) => (e.msg as string).slice(9));
    return `SIGINT to the process group: npm ${describeExit(exit)}, the system stopped in ${seconds(exit.ms)}: ${stopped.join(', ')}; no process left`;
  }

  /** The first fetchBatch of a run in Temporal's history: its final attempt and what failed before it. */
  async function firstFetchAttempt(run: Run) {
    const connection = await Connection.connect({ address: deps.temporal.address });
    try {
      const client = new Client({ connection, namespace: deps.temporal.namespace });
      const history = await client.workflow.getHandle(run.workflow_id, run.run_id).fetchHistory();
      const events = history.events ?? [];
      const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'fetchBatch');
      const started = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled?.eventId));
      const attributes = started?.activityTaskStartedEventAttributes;
      if (!scheduled || !attributes) throw new Error(`no started fetchBatch in the history of run ${short(run.run_id)}`);
      return {
        attempt: attributes.attempt ?? 0,
        failureType: attributes.lastFailure?.applicationFailureInfo?.type ?? '(none)',
        failure: attributes.lastFailure?.message ?? '',
        waitedMs: timestampMs(started.eventTime) - timestampMs(scheduled.eventTime),
      };
    } finally {
      await connection.close();
    }
  }
}

/** The run `npm run etl -- run` started or returned, from its JSON log line. */
function cliRun(stdout: string): { runId: string; started: boolean } {
  for (const line of stdout.split('\n')) {
    let entry: { runId?: unknown; started?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (typeof entry?.runId === 'string' && typeof entry.started === 'boolean') return { runId: entry.runId, started: entry.started };
  }
  throw new Error(`no run id in the output of npm run etl: ${stdout.slice(-300)}`);
}

/** protobuf Timestamp → ms; `seconds` is a Long, whose string form is its decimal value. */
function timestampMs(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(String(ts?.seconds ?? 0)) * 1000 + Math.round((ts?.nanos ?? 0) / 1e6);
}

/** The random end of a run id (UUIDv7s of one minute share their first 8 characters). */
function short(runId: string): string {
  return `…${runId.slice(-8)}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
