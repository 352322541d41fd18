/**
 * `npm run bench:api [-- --quick] [--profile DIR]`: autocannon at 50 connections on GET /data?limit=100 and GET /stats with
 * 1M quote rows in history, beside a no-database Express route returning the same bytes, in the same run.
 * Target: /data at least 40% of that route's requests/s, p99 under 25 ms, zero errors.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { loadConfig } from '../src/config';
import type { Sql } from '../src/db/sql';
import { createLogger } from '../src/logger';
import { startPostgres } from './infra';

const CONNECTIONS = 50;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, profile: { type: 'string' } },
  });
  const seconds = values.quick ? 5 : 20;
  const listings = values.quick ? 4_000 : 20_000;
  const observations = 50; // per listing: 1M quote rows in the full run
  const config = loadConfig();
  const log = createLogger({ level: 'info', pretty: false, name: 'bench-api' });
  const pg = await startPostgres(config, log);
  const db = await pg.createDatabase('bench_api');
  try {
    const rows = await seed(db.sql, listings, observations);
    log.info({ rows, listings }, 'history seeded');
    // --profile DIR: a V8 CPU profile of the API process, to open in Chrome DevTools.
    const profile = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [];
    const server = spawn(process.execPath, [...profile, '--import', 'tsx', 'bench/api-server.ts'], {
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'], // request logs on, written to /dev/null as a collector would take them
    });
    const ready = await firstJsonLine<{ apiPort: number; uncachedPort: number; baselinePort: number; bytes: number }>(server.stderr);
    try {
      const results = [
        { name: 'baseline: Express, no database, same bytes', ...(await load(`http://127.0.0.1:${ready.baselinePort}/data`, seconds)) },
        { name: 'GET /data?limit=100', ...(await load(`http://127.0.0.1:${ready.apiPort}/data?limit=100`, seconds)) },
        { name: 'GET /stats', ...(await load(`http://127.0.0.1:${ready.apiPort}/stats`, seconds)) },
        { name: 'GET /data?limit=100, read cache off', ...(await load(`http://127.0.0.1:${ready.uncachedPort}/data?limit=100`, seconds)) },
      ];
      const base = results[0]?.rps ?? 1;
      console.log(`\n${rows.toLocaleString('en')} quote rows (${listings.toLocaleString('en')} listings), ${CONNECTIONS} connections, ${seconds}s each, /data body ${ready.bytes} bytes\n`);
      console.log('| target | req/s | p50 ms | p99 ms | errors | vs baseline |');
      console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
      for (const r of results) {
        console.log(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${((r.rps / base) * 100).toFixed(0)}% |`);
      }
      const data = results[1];
      if (data) {
        const ok = data.rps / base >= 0.4 && data.p99 < 25 && data.errors === 0;
        console.log(`\n/data target (>= 40% of baseline, p99 < 25 ms, 0 errors): ${ok ? 'MET' : 'NOT MET'}`);
      }
    } finally {
      server.kill('SIGTERM');
    }
  } finally {
    await db.drop();
    await pg.stop();
  }
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
async function seed(sql: Sql, listings: number, observations: number): Promise<number> {
  await sql`
    INSERT INTO assets (symbol, name)
    SELECT 'C' || g, 'Coin ' || g FROM generate_series(1, ${listings}) g`;
  await sql`
    INSERT INTO quotes (source, source_asset_id, source_updated_at, asset_id, symbol, name, price_usd, market_cap_usd,
                        volume_24h_usd, percent_change_24h, rank, run_id)
    SELECT (ARRAY['coingecko', 'coinpaprika', 'csv'])[1 + a.asset_id % 3], 'coin-' || a.asset_id,
           timestamptz '2026-01-01' + t * interval '5 minutes', a.asset_id, a.symbol, a.name,
           (1 + a.asset_id % 997) * (1 + t / 100.0),
           CASE WHEN a.asset_id % 7 = 0 THEN NULL ELSE 1e6 * (${listings} - a.asset_id + 1) END,
           1e5 * (1 + t % 17), (t % 21) - 10, a.asset_id, 'seed'
      FROM assets a CROSS JOIN generate_series(1, ${observations}) t`;
  await sql`
    INSERT INTO latest_quotes
    SELECT DISTINCT ON (source, source_asset_id) source, source_asset_id, source_updated_at, asset_id, symbol, name,
           price_usd, market_cap_usd, volume_24h_usd, percent_change_24h, rank, ingested_at, run_id
      FROM quotes ORDER BY source, source_asset_id, source_updated_at DESC`;
  await sql`
    INSERT INTO etl_runs (run_id, workflow_id, temporal_run_id, source, trigger, status, started_at, finished_at, fetched, inserted)
    SELECT 'seed-' || g, 'etl-coingecko', 'seed-' || g, (ARRAY['coingecko', 'coinpaprika', 'csv'])[1 + g % 3], 'schedule',
           CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
           now() - g * interval '5 minutes', now() - g * interval '5 minutes' + interval '40 seconds', 1000, 100
      FROM generate_series(1, 2000) g`;
  await sql`ANALYZE`;
  const [count] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM quotes`;
  return count?.n ?? 0;
}

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
