/**
 * `npm run bench:etl`: how fast the whole pipeline (HTTP or CSV → Temporal → PostgreSQL) moves records, against
 * "the bound": the same records written straight to PostgreSQL by the same repository functions in one
 * transaction per batch, no HTTP and no Temporal, measured in the same run on the same machine.
 *
 *   npm run bench:etl                     simulator at 10k and 100k coins, a 1M-row CSV
 *   npm run bench:etl -- --quick          2k coins and a 50k-row CSV: a smoke check
 *   npm run bench:etl -- --only csv --batch-size 2000
 *
 * PostgreSQL: DATABASE_URL's server if set, else an embedded one in a temp dir; every case gets fresh databases.
 * Temporal: a dev server from the cached CLI. The worker runs in this process; the simulator in a child process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadConfig, type Config } from '../src/config';
import type { Sql } from '../src/db/sql';
import { createLogger, type Logger } from '../src/logger';
import { createSources, sourceNamed } from '../src/sources';
import { measureBound } from './bound';
import { measureContractCost } from './contract-cost';
import { writeCsvFixture } from './csv-fixture';
import { measureEndToEnd } from './end-to-end';
import { startPostgres, startSimulatorProcess, startTemporal, type PostgresServer } from './infra';
import { describeCase, markdownTable, ratio, TARGET_RATIO, type CaseResult } from './report';
import { performance, sampleRss, seconds } from './timing';

const SEED = 42;
const PLANS = {
  full: { coins: [10_000, 100_000], csv: { ids: 20_000, snapshots: 50 }, crossSourceCoins: 10_000 },
  quick: { coins: [2_000], csv: { ids: 5_000, snapshots: 10 }, crossSourceCoins: 2_000 },
} as const;
const HTTP_SOURCES = ['coingecko', 'coinpaprika'] as const;
/** The production order: the second source's coins are mostly known already, so identity matching really runs. */
const CROSS_SOURCE = { source: 'coinpaprika', after: 'coingecko' } as const;

interface Args {
  quick: boolean;
  batchSize: number;
  only: ReadonlySet<string>;
}

function parseCommandLine(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      'batch-size': { type: 'string', default: '5000' },
      /** Comma-separated: csv, coingecko, coinpaprika, cross-source. */
      only: { type: 'string', default: 'csv,coingecko,coinpaprika,cross-source' },
    },
  });
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`--batch-size must be a positive integer, got ${values['batch-size']}`);
  return { quick: values.quick, batchSize, only: new Set(values.only.split(',').map((s) => s.trim())) };
}

interface Bench {
  pg: PostgresServer;
  env: TestWorkflowEnvironment;
  bundle: WorkflowBundleWithSourceMap;
  log: Logger;
  batchSize: number;
}

interface CaseSpec {
  source: string;
  label: string;
  size: string;
  settings: Record<string, string>;
  /** A source loaded first into the same database, off the clock. */
  after?: string;
  sampleMemory?: boolean;
}

async function main(): Promise<void> {
  const args = parseCommandLine(process.argv.slice(2));
  const plan = args.quick ? PLANS.quick : PLANS.full;
  const config = loadConfig();
  const log = createLogger({ level: 'warn', pretty: false, name: 'bench' });
  const dir = await mkdtemp(join(tmpdir(), 'kasparro-bench-'));
  const csvPath = join(dir, 'market-history.csv');

  const started = performance.now();
  const [pg, temporal, csvRows] = await Promise.all([
    startPostgres(config, log),
    startTemporal(config, log),
    args.only.has('csv') ? writeCsvFixture(csvPath, plan.csv) : Promise.resolve(0),
  ]);
  say(
    `set-up ${seconds(started).toFixed(1)}s: ${availableParallelism()} cores, node ${process.version}, ` +
      `PostgreSQL ${pg.embedded ? 'embedded (default settings)' : 'from DATABASE_URL'}, Temporal dev server (CLI); ` +
      `the worker runs in this process, the simulator in a child process; batch ${args.batchSize} records` +
      (csvRows ? `; CSV ${count(csvRows)} rows (${count(plan.csv.ids)} ids × ${plan.csv.snapshots} timestamps)` : ''),
  );

  const bench: Bench = { pg, ...temporal, log, batchSize: args.batchSize };
  const results: CaseResult[] = [];
  try {
    // The CSV case first, while the heap holds nothing from the big HTTP cases: its RSS is then its own.
    if (args.only.has('csv')) {
      const size = `${short(csvRows)} rows`;
      results.push(await runCase(bench, { source: 'csv', label: 'csv', size, settings: { CSV_PATH: csvPath }, sampleMemory: true }));
    }
    for (const coins of plan.coins) {
      const specs: CaseSpec[] = HTTP_SOURCES.filter((s) => args.only.has(s)).map((source) => ({
        source,
        label: source,
        size: `${short(coins)} coins`,
        settings: {},
      }));
      if (args.only.has('cross-source') && coins === plan.crossSourceCoins) {
        specs.push({ ...CROSS_SOURCE, label: `${CROSS_SOURCE.source} after ${CROSS_SOURCE.after}`, size: `${short(coins)} coins`, settings: {} });
      }
      if (specs.length === 0) continue;
      const simulator = await startSimulatorProcess({ coins, seed: SEED });
      try {
        for (const spec of specs) {
          const settings = { COINGECKO_BASE_URL: simulator.url, COINPAPRIKA_BASE_URL: simulator.url };
          results.push(await runCase(bench, { ...spec, settings }));
        }
      } finally {
        await simulator.close();
      }
    }
  } finally {
    await temporal.env.teardown();
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  }

  say('');
  say(markdownTable(results));
  const csv = results.find((r) => r.source === 'csv');
  if (csv?.rss) {
    const { beforeMb, peakMb, afterMb } = csv.rss;
    say(`\nCSV ${csv.size}, process RSS: before ${beforeMb.toFixed(0)} MB, peak ${peakMb.toFixed(0)} MB, after ${afterMb.toFixed(0)} MB`);
  }
  const below = results.filter((r) => ratio(r) < TARGET_RATIO);
  say(
    below.length === 0
      ? `\nEvery case reaches ${TARGET_RATIO * 100}% of its bound.`
      : `\nBelow ${TARGET_RATIO * 100}% of the bound: ${below.map((r) => `${r.source} ${r.size}`).join(', ')}`,
  );
}

let databases = 0;

/** One source at one size: end to end on a fresh database, then the bound on another fresh database. */
async function runCase(bench: Bench, spec: CaseSpec): Promise<CaseResult> {
  const config = loadConfig({
    ETL_BATCH_SIZE: String(bench.batchSize),
    COINPAPRIKA_PAGE_SIZE: String(bench.batchSize),
    CSV_PAGE_SIZE: String(bench.batchSize),
    COINGECKO_RATE_LIMIT_PER_MIN: '1000000',
    COINPAPRIKA_RATE_LIMIT_PER_MIN: '1000000',
    ...spec.settings,
  });
  const id = `bench_${spec.source}_${++databases}`;

  say(`${spec.label} ${spec.size}: end to end...`);
  const { e2e, rss, contract } = await withDatabase(bench, config, `${id}_e2e`, spec.after, async (sql) => {
    const sources = createSources(config.sources);
    const run = () => measureEndToEnd({ ...bench, sql, sources, source: spec.source, batchSize: config.etl.batchSize });
    const measured = spec.sampleMemory ? await sampleRss(run) : { result: await run(), rss: undefined };
    return { e2e: measured.result, rss: measured.rss, contract: await measureContractCost(sql, sourceNamed(sources, spec.source)) };
  });

  say(`${spec.label} ${spec.size}: bound...`);
  const bound = await withDatabase(bench, config, `${id}_bound`, spec.after, (sql) =>
    measureBound({ sql, source: sourceNamed(createSources(config.sources), spec.source), batchSize: config.etl.batchSize, runId: `${id}-bound` }),
  );

  const result: CaseResult = { source: spec.label, size: spec.size, e2e, bound, contract, ...(rss ? { rss } : {}) };
  for (const line of describeCase(result)) say(line);
  return result;
}

/** A fresh database for `body`, with `after`'s records already loaded if given; dropped afterwards. */
async function withDatabase<T>(
  bench: Bench,
  config: Config,
  name: string,
  after: string | undefined,
  body: (sql: Sql) => Promise<T>,
): Promise<T> {
  const db = await bench.pg.createDatabase(name);
  try {
    if (after) {
      const source = sourceNamed(createSources(config.sources), after);
      await measureBound({ sql: db.sql, source, batchSize: config.etl.batchSize, runId: `${name}-${after}` });
    }
    return await body(db.sql);
  } finally {
    await db.drop();
  }
}

const count = (n: number): string => n.toLocaleString('en-US');

function short(n: number): string {
  if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1_000 && n % 1_000 === 0) return `${n / 1_000}k`;
  return count(n);
}

/** The report goes to stdout as plain text: it is read by people and pasted into documents. */
function say(line: string): void {
  console.log(line);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
