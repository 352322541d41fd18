/**
 * `npm run bench:history [-- --quick] [--sizes 1000000,10000000] [--samples N]`: how the read side's cost grows
 * with stored history. The same synthetic history (bench/history-seed.ts: 20k listings, a run of each source every
 * 5 minutes) is grown to each size in turn, and at each size every read endpoint is asked through the real app,
 * its read cache off, one request at a time: p50 and p99 of what a caller waits, and the database's size.
 * Target (issue 12): each endpoint at the largest size within 1.5x of itself at the smallest, and under 50 ms p50.
 * Temporal is not started: /health's Temporal checks fail at once (one attempt, src/temporal/probe.ts), and its
 * database checks are what is measured.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../api/app';
import { loadConfig } from '../src/config';
import { freePort } from '../src/infra/temporal-binaries';
import { createLogger } from '../src/logger';
import { HistorySeed, tickTime, TICK_MS } from './history-seed';
import { startPostgres } from './infra';

const LISTINGS = 20_000;
const P50_TARGET_MS = 50;
const GROWTH_TARGET = 1.5;
/** Per endpoint and size: at most this many samples, and no more once this long has gone by (a 10 s query). */
const MAX_SECONDS_PER_ENDPOINT = 30;

interface Endpoint {
  name: string;
  /** The path and query, from what the history holds now. */
  path(at: Snapshot): string;
}

/** What the endpoints' paths are made from: ticks seeded, a listing, two runs. */
interface Snapshot {
  ticks: number;
  assetId: number;
  runIds: [string, string];
}

const iso = (d: Date) => d.toISOString();
/** The last hour of history: as many rows at any size. */
const lastHour = (s: Snapshot) => `from=${iso(new Date(tickTime(s.ticks).getTime() - 60 * 60_000 + TICK_MS / 2))}&to=${iso(tickTime(s.ticks))}`;
const everything = (s: Snapshot) => `from=${iso(tickTime(0))}&to=${iso(tickTime(s.ticks))}`;

const ENDPOINTS: Endpoint[] = [
  { name: '/stats', path: () => '/stats' },
  { name: '/data latest, page 1', path: () => '/data' },
  { name: '/data latest, offset 10,000', path: () => '/data?offset=10000' },
  { name: '/data latest, sort=symbol', path: () => '/data?sort=symbol' },
  { name: '/data latest, q=Coin 12', path: () => '/data?q=Coin%2012' },
  { name: '/data latest, source=csv', path: () => '/data?source=csv' },
  { name: '/data history, one symbol, last hour', path: (s) => `/data?symbol=C${s.assetId}&${lastHour(s)}` },
  { name: '/data history, one symbol, all of it', path: (s) => `/data?symbol=C${s.assetId}&${everything(s)}` },
  { name: '/data history, one asset, all of it', path: (s) => `/data?asset_id=${s.assetId}&${everything(s)}` },
  { name: '/data history, all listings, last hour', path: (s) => `/data?${lastHour(s)}` },
  { name: '/data history, all, newest first', path: (s) => `/data?sort=observed_at_desc&${everything(s)}` },
  { name: '/data history, all, by price, offset 5,000', path: (s) => `/data?sort=price&offset=5000&${everything(s)}` },
  { name: '/assets/:id', path: (s) => `/assets/${s.assetId}` },
  { name: '/runs', path: () => '/runs' },
  { name: '/runs?source=csv, offset 1,000', path: () => '/runs?source=csv&offset=1000' },
  { name: '/runs/:run_id', path: (s) => `/runs/${s.runIds[1]}` },
  { name: '/compare-runs', path: (s) => `/compare-runs?run_id_1=${s.runIds[0]}&run_id_2=${s.runIds[1]}` },
  { name: '/health', path: () => '/health' },
  { name: '/metrics', path: () => '/metrics' },
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, sizes: { type: 'string' }, samples: { type: 'string' } },
  });
  const sizes = (values.sizes ?? (values.quick ? '100000,1000000' : '1000000,10000000')).split(',').map(Number);
  const samples = Number(values.samples ?? (values.quick ? 10 : 40));
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < LISTINGS)) throw new Error(`--sizes: numbers of quote rows, each at least ${LISTINGS}`);
  const config = loadConfig();
  const log = createLogger({ level: 'info', pretty: false, name: 'bench-history' });
  const pg = await startPostgres(config, log);
  const db = await pg.createDatabase('bench_history');
  // No Temporal: a lazy connection to a port nobody listens on.
  const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
  const { app, close } = createApp({
    sql: db.sql,
    // Silent: every /health here is a 503 (no Temporal), logged at error level otherwise.
    log: createLogger({ level: 'silent', pretty: false }),
    version: 'bench',
    temporal: { client: new Client({ connection }), namespace: 'default', taskQueue: 'bench-history', webUiUrl: 'http://127.0.0.1:8233' },
    readCacheMs: 0,
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const results = new Map<string, { p50: number; p99: number; n: number }[]>();
  const footprints: string[] = [];
  try {
    const seed = new HistorySeed(db.sql, LISTINGS);
    await seed.createListings();
    for (const size of sizes) {
      const started = performance.now();
      await seed.growTo(size);
      const [facts] = await db.sql<{ db: string; quotes_bytes: string; raw_bytes: string }[]>`
        SELECT pg_size_pretty(pg_database_size(current_database())) AS db,
               pg_size_pretty(pg_total_relation_size('quotes')) AS quotes_bytes,
               pg_size_pretty(pg_total_relation_size('raw_payloads')) AS raw_bytes`;
      const rows = seed.seededTicks * LISTINGS;
      footprints.push(`${rows.toLocaleString('en')} quote rows: database ${facts?.db}, quotes with indexes ${facts?.quotes_bytes}, raw_payloads ${facts?.raw_bytes}`);
      log.info({ rows, seconds: Math.round((performance.now() - started) / 1000), db: facts?.db }, 'history grown');
      const runIds = await db.sql<{ run_id: string }[]>`
        SELECT run_id FROM etl_runs WHERE source = 'coingecko' ORDER BY started_at DESC LIMIT 2`;
      const at: Snapshot = { ticks: seed.seededTicks, assetId: Math.round(LISTINGS / 2), runIds: [runIds[1]?.run_id ?? '', runIds[0]?.run_id ?? ''] };
      for (const endpoint of ENDPOINTS) {
        const measured = await measure(`${base}${endpoint.path(at)}`, samples);
        results.set(endpoint.name, [...(results.get(endpoint.name) ?? []), measured]);
      }
    }
  } finally {
    server.close();
    await close();
    await connection.close();
    await db.drop();
    await pg.stop();
  }

  const label = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);
  console.log(`\n${footprints.join('\n')}\n`);
  console.log(`| endpoint | ${sizes.map((n) => `p50 ms @${label(n)} | p99 ms @${label(n)}`).join(' | ')} | p50 ${label(sizes.at(-1)!)} / ${label(sizes[0]!)} | target |`);
  console.log(`| --- | ${sizes.map(() => '---: | ---:').join(' | ')} | ---: | --- |`);
  let met = 0;
  for (const [name, bySize] of results) {
    const first = bySize[0]!;
    const last = bySize.at(-1)!;
    const growth = last.p50 / Math.max(first.p50, 0.1);
    const ok = growth <= GROWTH_TARGET && last.p50 < P50_TARGET_MS;
    if (ok) met++;
    console.log(`| ${name} | ${bySize.map((r) => `${r.p50.toFixed(1)} | ${r.p99.toFixed(1)}`).join(' | ')} | ${growth.toFixed(1)}x | ${ok ? 'met' : 'NOT MET'} |`);
  }
  console.log(`\n${met} of ${results.size} endpoints within ${GROWTH_TARGET}x of themselves and under ${P50_TARGET_MS} ms p50 at the largest size`);
}

/** Sequential GETs (after two unmeasured ones): p50 and p99 in ms. Any answer but 200 (or /health's 503) fails. */
async function measure(url: string, samples: number): Promise<{ p50: number; p99: number; n: number }> {
  const times: number[] = [];
  const deadline = performance.now() + MAX_SECONDS_PER_ENDPOINT * 1000;
  for (let i = 0; i < samples + 2 && (i < 4 || performance.now() < deadline); i++) {
    const started = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    const ms = performance.now() - started;
    if (res.status !== 200 && !(res.status === 503 && url.includes('/health'))) throw new Error(`${url}: ${res.status}`);
    if (i >= 2) times.push(ms);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] ?? 0;
  return { p50: at(0.5), p99: at(0.99), n: times.length };
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
