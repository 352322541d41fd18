/**
 * `npm run bench:api [-- --quick] [--profile DIR] [--node-option FLAG]`, with 1M quote rows in history:
 * - the maximum, closed loop: autocannon at 50 connections on GET /data?limit=100, /stats, /assets/:id and /health,
 *   beside a no-database Express route returning /data's bytes, in the same run;
 * - the latency, open loop: vegeta at a fixed arrival rate of 25%, 50% and 75% of each endpoint's maximum on
 *   /data?limit=100, /assets/:id and /health. A closed loop's latency only restates its throughput (50
 *   connections kept busy wait 50 / throughput on average); at a fixed rate it is what a caller waits. Each rate
 *   is also sent to the no-database route: the floor this machine and load generator allow at that rate.
 * /health answers 200 only while a worker polls: a Temporal dev server and a worker on the API's task queue run beside it.
 * Targets: /data at least 40% of the route's requests/s; p99 under 25 ms at 50% of the maximum; zero errors.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createWorker } from '../src/temporal/worker';
import { HistorySeed } from './history-seed';
import { startPostgres, startTemporal } from './infra';
import { serverSide } from './server-side';
import { attack, findVegeta } from './vegeta';

const CONNECTIONS = 50;
const TASK_QUEUE = 'bench-api';
const FRACTIONS = [0.25, 0.5, 0.75];
const P99_TARGET_MS = 25;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, profile: { type: 'string' }, 'node-option': { type: 'string', multiple: true, default: [] } },
  });
  const seconds = values.quick ? 3 : 20;
  const warmUp = values.quick ? 1 : 3;
  const listings = values.quick ? 4_000 : 20_000;
  const observations = 50; // per listing: 1M quote rows in the full run
  const config = loadConfig();
  const log = createLogger({ level: 'info', pretty: false, name: 'bench-api' });
  const pin = isolateApiCore(log); // before PostgreSQL and Temporal start: they inherit the rest of the cores
  const vegeta = await findVegeta(config, log);
  const [pg, temporal] = await Promise.all([startPostgres(config, log), startTemporal(config, log)]);
  const scratch = await mkdtemp(join(tmpdir(), 'bench-api-'));
  const db = await pg.createDatabase('bench_api');
  try {
    // The history bench:history grows (bench/history-seed.ts), at one size.
    const history = new HistorySeed(db.sql, listings);
    await history.createListings();
    await history.growTo(listings * observations);
    const rows = history.seededTicks * listings;
    const [mid] = await db.sql<{ id: string }[]>`SELECT asset_id::text AS id FROM assets ORDER BY asset_id OFFSET ${listings / 2} LIMIT 1`;
    log.info({ rows, listings }, 'history seeded');
    // A worker polling the API's task queue, so /health answers 200 as in production.
    const bundlePath = join(scratch, 'workflow-bundle.js');
    await writeFile(bundlePath, temporal.bundle.code);
    const worker = await createWorker({
      connection: temporal.env.nativeConnection,
      namespace: temporal.env.namespace ?? 'default',
      taskQueue: TASK_QUEUE,
      activities: {},
      workflowBundle: bundlePath,
    });
    const polling = worker.run();
    // --profile DIR: a V8 CPU profile of the API process, to open in Chrome DevTools.
    const profile = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [];
    // --node-option FLAG (repeatable): a V8 or Node flag for the API process, to compare GC settings.
    profile.push(...values['node-option']);
    // taskset execs the command: the child is the API's node process itself.
    const [command = process.execPath, ...args] = [...pin, process.execPath, ...profile, '--import', 'tsx', 'bench/api-server.ts'];
    const server = spawn(command, args, {
      env: { ...process.env, DATABASE_URL: db.url, TEMPORAL_ADDRESS: temporal.env.address, TEMPORAL_TASK_QUEUE: TASK_QUEUE, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'], // request logs on, written to /dev/null as a collector would take them
    });
    try {
      const ready = await firstJsonLine<{ apiPort: number; uncachedPort: number; baselinePort: number; bytes: number }>(server.stderr);
      const api = `http://127.0.0.1:${ready.apiPort}`;
      await untilHealthy(`${api}/health`);
      const endpoints = [
        { name: 'GET /data?limit=100', url: `${api}/data?limit=100`, route: '/data' },
        { name: `GET /assets/${mid?.id ?? 1}`, url: `${api}/assets/${mid?.id ?? 1}`, route: '/assets/:asset_id' },
        { name: 'GET /health', url: `${api}/health`, route: '/health' },
      ];
      const baselineUrl = `http://127.0.0.1:${ready.baselinePort}/data`;
      const closed = [
        { name: 'baseline: Express, no database, same bytes', ...(await load(baselineUrl, seconds)) },
        ...(await sequence(endpoints, async (e) => ({ name: e.name, ...(await load(e.url, seconds)) }))),
        { name: 'GET /stats', ...(await load(`${api}/stats`, seconds)) },
        { name: 'GET /data?limit=100, read cache off', ...(await load(`http://127.0.0.1:${ready.uncachedPort}/data?limit=100`, seconds)) },
      ];
      const open = await sequence(
        endpoints.flatMap((e, i) => FRACTIONS.map((fraction) => ({ ...e, fraction, rate: (closed[i + 1]?.rps ?? 1) * fraction }))),
        async (t) => {
          // Unreported warm-up at the first rate: the first seconds after the closed-loop runs showed p99s of
          // 100-250 ms that the same rate never showed again (a GC of their garbage, pool churn).
          if (t.fraction === FRACTIONS[0]) await attack(vegeta, t.url, t.rate, warmUp);
          const measured = await serverSide(`${api}/metrics`, t.route, () => attack(vegeta, t.url, t.rate, seconds));
          // The floor at this rate: the same load generator against the no-database route of the same process.
          // What it shows of a tail, no API code caused.
          const floor = await attack(vegeta, baselineUrl, t.rate, seconds);
          return { ...t, ...measured, floorP99: floor.p99 };
        },
      );

      const base = closed[0]?.rps ?? 1;
      console.log(`\n${rows.toLocaleString('en')} quote rows (${listings.toLocaleString('en')} listings), /data body ${ready.bytes} bytes, ${seconds}s per line\n`);
      console.log(`Maximum, closed loop (autocannon, ${CONNECTIONS} connections):\n`);
      console.log('| target | req/s | p50 ms | p99 ms | errors | vs baseline |');
      console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
      for (const r of closed) {
        console.log(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${((r.rps / base) * 100).toFixed(0)}% |`);
      }
      console.log('\nLatency, open loop (vegeta, fixed arrival rate):\n');
      console.log(
        '| endpoint | of max | offered req/s | answered req/s | p50 ms | p99 ms | errors | in the API: over 25 ms | longest stall ms | major GC ms | floor p99 ms, same rate |',
      );
      console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
      for (const r of open) {
        console.log(
          `| ${r.name} | ${r.fraction * 100}% | ${Math.round(r.rate)} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} | ` +
            `${(r.over25 * 100).toFixed(2)}% | ${r.maxStallMs.toFixed(0)} | ${r.majorGcMs.toFixed(0)} | ${r.floorP99.toFixed(1)} |`,
        );
      }
      const data = closed[1];
      if (data) {
        const ok = data.rps / base >= 0.4 && data.errors === 0;
        console.log(`\n/data throughput target (>= 40% of baseline, 0 errors): ${ok ? 'MET' : 'NOT MET'}`);
      }
      const half = open.filter((r) => r.fraction === 0.5);
      const latencyOk = half.every((r) => r.p99 < P99_TARGET_MS && r.errors === 0) && open.every((r) => r.errors === 0);
      console.log(`latency target (p99 < ${P99_TARGET_MS} ms at 50% of the maximum, 0 errors at every rate): ${latencyOk ? 'MET' : 'NOT MET'}`);
    } finally {
      server.kill('SIGTERM');
      worker.shutdown();
      await polling;
    }
  } finally {
    await db.drop();
    await Promise.all([pg.stop(), temporal.env.teardown()]);
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The API gets the last core to itself; this process (autocannon, vegeta), PostgreSQL and Temporal share the
 * others. On two cores the load generator otherwise takes CPU from the API it measures: vegeta at 1,700
 * requests/s uses most of a core, and the API's p99 was then the scheduler's, not its own. Returns the command
 * prefix that pins a child to the API core (empty without taskset or with one core).
 */
function isolateApiCore(log: ReturnType<typeof createLogger>): string[] {
  const cores = availableParallelism();
  if (cores < 2) return [];
  try {
    execFileSync('taskset', ['-a', '-pc', `0-${cores - 2}`, String(process.pid)], { stdio: 'ignore' });
  } catch (err) {
    log.warn({ err }, 'taskset is not available: the API shares its cores with the load generators');
    return [];
  }
  log.info({ apiCore: cores - 1, others: `0-${cores - 2}` }, 'the API runs on a core of its own');
  return ['taskset', '-c', String(cores - 1)];
}

/** One after another: two loads at once would share the cores and measure neither. */
async function sequence<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await fn(item));
  return out;
}

/** Waits for the worker's first poll to reach the server, so the load measures a healthy /health. */
async function untilHealthy(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = 0;
  while (Date.now() < deadline) {
    const res = await fetch(url);
    await res.arrayBuffer();
    if ((last = res.status) === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`/health still answers ${last} after 30 s`);
}

async function load(url: string, seconds: number) {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/**
 * 1M rows of history the way the pipeline writes them: assets, quotes per (listing, observation) across three
 * sources, and each listing's newest quote in latest_quotes. Set-based SQL, seconds not minutes.
 */
function firstJsonLine<T>(stream: NodeJS.ReadableStream | null): Promise<T> {
  return new Promise((resolve, reject) => {
    if (!stream) return reject(new Error('no stderr'));
    const lines = createInterface({ input: stream });
    lines.on('line', (line) => {
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        process.stderr.write(`${line}\n`);
      }
    });
    lines.on('close', () => reject(new Error('the API server exited before it was ready')));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
