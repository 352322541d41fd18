import type { ReplaySelection, RunCounts, RunStatus, Trigger } from '../shared/types';
import type { Db } from './sql';

/** Read side of etl_runs for the API: run history, one run, last runs per source, and what changed between two runs. */

export interface RunView {
  run_id: string;
  workflow_id: string;
  temporal_run_id: string;
  source: string;
  trigger: Trigger;
  status: RunStatus;
  /** degraded: why, and how many records were held back. */
  status_reason: string | null;
  /** `ingest` fetches; `replay` re-reads stored payloads (`etl replay`), `selection` saying which. */
  mode: 'ingest' | 'replay';
  selection: ReplaySelection | null;
  started_at: Date;
  finished_at: Date | null;
  /** null while running. */
  duration_seconds: number | null;
  counts: RunCounts;
  batches: number;
  error: string | null;
  failure_injection: { after_records: number; mode: string } | null;
}

interface RunRow extends Omit<RunView, 'counts' | 'failure_injection'>, RunCounts {
  fail_after: number | null;
  fail_mode: string | null;
}

/** The columns of RunRow, from etl_runs aliased `r`. */
function runColumns(db: Db) {
  return db`
    r.run_id, r.workflow_id, r.temporal_run_id, r.source, r.trigger, r.mode, r.selection, r.status, r.status_reason, r.started_at, r.finished_at,
    extract(epoch FROM r.finished_at - r.started_at)::float8 AS duration_seconds,
    r.fetched, r.inserted, r.unchanged, r.invalid, r.batches, r.error, r.fail_after, r.fail_mode`;
}

function toRunView(row: RunRow): RunView {
  const { fetched, inserted, unchanged, invalid, fail_after, fail_mode, ...rest } = row;
  return {
    ...rest,
    counts: { fetched, inserted, unchanged, invalid },
    failure_injection: fail_after === null ? null : { after_records: fail_after, mode: fail_mode ?? 'once' },
  };
}

export async function getRunView(db: Db, runId: string): Promise<RunView | undefined> {
  const [row] = await db<RunRow[]>`SELECT ${runColumns(db)} FROM etl_runs r WHERE r.run_id = ${runId}`;
  return row && toRunView(row);
}

// ---------------------------------------------------------------------------------------------------------------
// Run history, each run judged against its source's recent runs

/** A run is judged against this many of its source's previous finished runs, and only when at least MIN exist. */
export const BASELINE_RUNS = 20;
export const MIN_BASELINE_RUNS = 5;
/** How many robust standard deviations (1.4826 × median absolute deviation) away from the median is "far". */
const FAR = 3;

/** Medians and median absolute deviations of the previous finished runs of the same source. */
export interface Baseline {
  runs: number;
  medianDuration: number;
  madDuration: number;
  medianFetched: number;
  madFetched: number;
}

export interface RunHistoryItem extends RunView {
  /** Why the run is an outlier; null when it is not, or cannot be judged (still running, too little history). */
  outlier: { reasons: string[] } | null;
}

export interface RunHistoryPage {
  rows: RunHistoryItem[];
  total: number;
}

export async function listRuns(
  db: Db,
  args: { source?: string | undefined; status?: RunStatus | undefined; limit: number; offset: number },
): Promise<RunHistoryPage> {
  const where = db`
    WHERE true
    ${args.source ? db`AND r.source = ${args.source}` : db``}
    ${args.status ? db`AND r.status = ${args.status}` : db``}`;
  const [rows, [count]] = await Promise.all([
    // The baseline of each run on the page: its source's finished runs that started before it, newest 20, reduced
    // to medians and median absolute deviations (robust: one wild run in the baseline does not move them).
    db<(RunRow & { baseline_runs: number | null } & Omit<Baseline, 'runs'>)[]>`
      WITH page AS (
        SELECT * FROM etl_runs r ${where} ORDER BY r.started_at DESC, r.run_id DESC LIMIT ${args.limit} OFFSET ${args.offset}
      ), previous AS (
        SELECT page.run_id, h.duration, h.fetched
          FROM page
          CROSS JOIN LATERAL (
            SELECT extract(epoch FROM p.finished_at - p.started_at)::float8 AS duration, p.fetched::float8 AS fetched
              FROM etl_runs p
             WHERE p.source = page.source AND p.finished_at IS NOT NULL AND p.started_at < page.started_at
             ORDER BY p.started_at DESC
             LIMIT ${BASELINE_RUNS}) h
      ), medians AS (
        SELECT run_id, count(*)::int AS runs,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY duration) AS median_duration,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY fetched) AS median_fetched
          FROM previous GROUP BY run_id
      ), baseline AS (
        SELECT m.run_id, m.runs, m.median_duration, m.median_fetched,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(p.duration - m.median_duration)) AS mad_duration,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(p.fetched - m.median_fetched)) AS mad_fetched
          FROM medians m JOIN previous p USING (run_id)
         GROUP BY m.run_id, m.runs, m.median_duration, m.median_fetched
      )
      SELECT ${runColumns(db)}, b.runs AS baseline_runs,
             b.median_duration AS "medianDuration", b.mad_duration AS "madDuration",
             b.median_fetched AS "medianFetched", b.mad_fetched AS "madFetched"
        FROM page r LEFT JOIN baseline b USING (run_id)
       ORDER BY r.started_at DESC, r.run_id DESC`,
    db<{ total: number }[]>`SELECT count(*)::int AS total FROM etl_runs r ${where}`,
  ]);
  return {
    total: count?.total ?? 0,
    rows: rows.map(({ baseline_runs, medianDuration, madDuration, medianFetched, madFetched, ...row }) => {
      const run = toRunView(row);
      const baseline = baseline_runs === null ? null : { runs: baseline_runs, medianDuration, madDuration, medianFetched, madFetched };
      const reasons = baseline ? outlierReasons(run, baseline) : [];
      return { ...run, outlier: reasons.length > 0 ? { reasons } : null };
    }),
  };
}

/**
 * Why a finished run stands out from its baseline: its duration or its records fetched lie more than FAR robust
 * standard deviations from the median. The spread is floored (10% of the median, 1 s, 1 record) so a perfectly
 * steady history does not turn every small wobble into an outlier.
 */
export function outlierReasons(run: RunView, baseline: Baseline): string[] {
  if (run.duration_seconds === null || baseline.runs < MIN_BASELINE_RUNS) return [];
  const reasons: string[] = [];
  const of = `of the last ${baseline.runs} runs`;
  const duration = judge(run.duration_seconds, baseline.medianDuration, baseline.madDuration, 1);
  if (duration) reasons.push(describe('duration', seconds(run.duration_seconds), seconds(baseline.medianDuration), duration, of));
  const fetched = judge(run.counts.fetched, baseline.medianFetched, baseline.madFetched, 1);
  if (fetched) reasons.push(describe('records fetched', records(run.counts.fetched), records(baseline.medianFetched), fetched, of));
  return reasons;
}

/** The ratio value/median when value is far from the median (Infinity for a zero median); null when it is not far. */
function judge(value: number, median: number, mad: number, floor: number): number | null {
  const spread = Math.max(1.4826 * mad, 0.1 * Math.abs(median), floor);
  if (Math.abs(value - median) <= FAR * spread) return null;
  return median === 0 ? Infinity : value / median;
}

function describe(what: string, value: string, median: string, ratio: number, of: string): string {
  if (!Number.isFinite(ratio)) return `${what} ${value} while the median ${of} is ${median}`;
  const times = ratio >= 1 ? ratio.toFixed(1) : String(Number(ratio.toPrecision(2)));
  return `${what} ${value} is ${times}x the median ${median} ${of}`;
}

const seconds = (s: number) => `${s.toFixed(1)}s`;
const records = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

// ---------------------------------------------------------------------------------------------------------------
// Last run per source

export interface LastRun extends RunView {
  /** Seconds since the run started, by the database clock. */
  age_seconds: number;
}

/** The newest run of each source that has one. */
export async function lastRunPerSource(db: Db): Promise<LastRun[]> {
  // One index probe per source that has runs (run_totals knows which), not a sort of every run.
  const rows = await db<(RunRow & { age_seconds: number })[]>`
    SELECT ${runColumns(db)}, extract(epoch FROM now() - r.started_at)::float8 AS age_seconds
      FROM (SELECT DISTINCT source FROM run_totals WHERE runs > 0) s
     CROSS JOIN LATERAL (
       SELECT * FROM etl_runs WHERE source = s.source ORDER BY started_at DESC, run_id DESC LIMIT 1) r
     ORDER BY r.source`;
  return rows.map(({ age_seconds, ...row }) => ({ ...toRunView(row), age_seconds }));
}

// ---------------------------------------------------------------------------------------------------------------
// Two runs of one source compared

export interface RunDeltas {
  counts: RunCounts;
  batches: number;
  duration_seconds: number | null;
  status: { from: RunStatus; to: RunStatus; changed: boolean };
}

/** Run 2 minus run 1. */
export function runDeltas(run1: RunView, run2: RunView): RunDeltas {
  const d = (key: keyof RunCounts) => run2.counts[key] - run1.counts[key];
  return {
    counts: { fetched: d('fetched'), inserted: d('inserted'), unchanged: d('unchanged'), invalid: d('invalid') },
    batches: run2.batches - run1.batches,
    duration_seconds:
      run1.duration_seconds === null || run2.duration_seconds === null
        ? null
        : Math.round((run2.duration_seconds - run1.duration_seconds) * 1000) / 1000,
    status: { from: run1.status, to: run2.status, changed: run1.status !== run2.status },
  };
}

export interface Listing {
  source_asset_id: string;
  asset_id: string | null;
  symbol: string | null;
  name: string | null;
}

export interface PriceMove {
  source_asset_id: string;
  asset_id: string;
  symbol: string;
  name: string;
  price_usd_1: number;
  price_usd_2: number;
  change_pct: number;
  observed_at_1: Date;
  observed_at_2: Date;
}

export interface RunDataChanges {
  added: { total: number; items: Listing[] };
  missing: { total: number; items: Listing[] };
  price_moves: { changed: number; top: PriceMove[] };
}

/**
 * What changed in the data between two runs of one source.
 *
 * A run's listings are the records it read and could normalize: the raw rows of its loaded batches, less those it
 * quarantined or that are still held (a raw row is shared by every run that read the same payload, and a later
 * run may load what an earlier one held back; every source normalizes a record's id into source_asset_id). Quotes alone would not do: a listing
 * the upstream left unchanged inserts no quote, yet the run saw it. A listing's price as of a run is its newest
 * quote from that run or an earlier one of the source: what the run read, stored then or before.
 *  - added: listings run 2 read that no run before run 2 had quoted;
 *  - missing: listings run 1 read and run 2 did not;
 *  - price moves: listings both read, by |percent change| from the price as of run 1 to the price as of run 2.
 */
export async function runDataChanges(
  db: Db,
  args: { source: string; runId1: string; runId2: string; listLimit: number; movesLimit: number },
): Promise<RunDataChanges> {
  const { source, runId1, runId2 } = args;
  const listingsRead = (runId: string) => db`
    SELECT DISTINCT raw.source_record_id AS source_asset_id
      FROM etl_batches b
      CROSS JOIN LATERAL unnest(b.raw_ids) AS u(raw_id)
      JOIN raw_payloads raw ON raw.id = u.raw_id
     WHERE b.run_id = ${runId} AND b.loaded_at IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM quarantine q
                        WHERE q.raw_id = raw.id AND (q.run_id = ${runId} OR q.released_at IS NULL))`;
  const startOf = (runId: string) => db`(SELECT started_at FROM etl_runs WHERE run_id = ${runId})`;
  const priceAsOf = (runId: string) => db`
    SELECT o.price_usd, o.source_updated_at, o.asset_id, o.symbol, o.name
      FROM quotes o JOIN etl_runs er ON er.run_id = o.run_id
     WHERE o.source = ${source} AND o.source_asset_id = l.source_asset_id AND er.started_at <= ${startOf(runId)}
     ORDER BY o.source_updated_at DESC
     LIMIT 1`;
  const withNames = (listings: ReturnType<typeof db>) => db<(Listing & { total: number })[]>`
    WITH listings AS (${listings})
    SELECT l.source_asset_id, m.asset_id::text AS asset_id, m.symbol, m.name, count(*) OVER ()::int AS total
      FROM listings l
      LEFT JOIN asset_mappings m ON m.source = ${source} AND m.source_asset_id = l.source_asset_id
     ORDER BY m.rank NULLS LAST, l.source_asset_id
     LIMIT ${args.listLimit}`;

  const [added, missing, moves] = await Promise.all([
    withNames(db`
      SELECT l.source_asset_id FROM (${listingsRead(runId2)}) l
       WHERE NOT EXISTS (
         SELECT 1 FROM quotes o JOIN etl_runs er ON er.run_id = o.run_id
          WHERE o.source = ${source} AND o.source_asset_id = l.source_asset_id AND er.started_at < ${startOf(runId2)})`),
    withNames(db`(${listingsRead(runId1)}) EXCEPT (${listingsRead(runId2)})`),
    db<(PriceMove & { changed: number })[]>`
      WITH common AS ((${listingsRead(runId1)}) INTERSECT (${listingsRead(runId2)})),
      pairs AS (
        SELECT l.source_asset_id, q2.asset_id, q2.symbol, q2.name,
               q1.price_usd AS price_1, q2.price_usd AS price_2, q1.source_updated_at AS observed_at_1,
               q2.source_updated_at AS observed_at_2
          FROM common l
          CROSS JOIN LATERAL (${priceAsOf(runId1)}) q1
          CROSS JOIN LATERAL (${priceAsOf(runId2)}) q2
         WHERE q1.price_usd > 0 AND q2.price_usd <> q1.price_usd
      )
      SELECT source_asset_id, asset_id::text AS asset_id, symbol, name,
             price_1::float8 AS price_usd_1, price_2::float8 AS price_usd_2,
             ((price_2 - price_1) / price_1 * 100)::float8 AS change_pct, observed_at_1, observed_at_2,
             count(*) OVER ()::int AS changed
        FROM pairs
       ORDER BY abs((price_2 - price_1) / price_1) DESC, source_asset_id
       LIMIT ${args.movesLimit}`,
  ]);
  const listed = (rows: (Listing & { total: number })[]) => ({
    total: rows[0]?.total ?? 0,
    items: rows.map(({ total: _, ...listing }) => listing),
  });
  return {
    added: listed(added),
    missing: listed(missing),
    price_moves: { changed: moves[0]?.changed ?? 0, top: moves.map(({ changed: _, ...move }) => move) },
  };
}
