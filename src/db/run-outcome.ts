import { describeChange, summaryOfRow } from '../contracts/attribution';
import type { Db } from './sql';

/**
 * Whether a run that read its upstream to the end succeeded, or only finished: a run that held records back
 * because its upstream changed shape, or whose share of valid records fell far below its source's recent runs,
 * is `degraded`, with a reason people can act on. Never a plain success over missing data.
 */

/** The valid share is judged against this many of the source's previous finished runs, once MIN exist. */
const SHARE_BASELINE_RUNS = 20;
const MIN_SHARE_BASELINE_RUNS = 3;
/**
 * A fall of this much (in share of records) below the median of those runs is sharp. Upstreams send a few bad
 * records in most runs, and their number moves; a quarter of the records gone is no longer that.
 */
const SHARP_DROP = 0.25;

export interface RunOutcome {
  status: 'succeeded' | 'degraded';
  reason?: string;
}

export async function judgeFinishedRun(db: Db, runId: string): Promise<RunOutcome> {
  const [run] = await db<{ source: string; mode: string; fetched: number; invalid: number; started_at: Date }[]>`
    SELECT source, mode, fetched, invalid, started_at FROM etl_runs WHERE run_id = ${runId}`;
  if (!run || run.fetched === 0 || run.invalid === 0) return { status: 'succeeded' };
  // A replay's records were held back once already: any it could still not load is what it failed to repair.
  if (run.mode === 'replay') {
    return { status: 'degraded', reason: `held back ${count(run.invalid)} of ${count(run.fetched)} replayed records: they still do not load` };
  }

  const [changes, [previous]] = await Promise.all([
    // The changes that held this run's records back, not every change it met: a rename accepted by itself loaded.
    db<{ kind: string; field: string; held_back: string; observed_type: string | null; suggested_field: string | null; confidence: string | null }[]>`
      SELECT c.kind, c.field, r.held_back, c.observed_type, c.suggested_field, c.confidence
        FROM schema_change_runs r JOIN schema_changes c ON c.id = r.change_id
       WHERE r.run_id = ${runId} AND r.held_back > 0
       ORDER BY r.held_back DESC, c.field`,
    db<{ runs: number; median: number | null }[]>`
      SELECT count(*)::int AS runs, percentile_cont(0.5) WITHIN GROUP (ORDER BY share) AS median
        FROM (SELECT 1 - invalid::float8 / fetched AS share
                FROM etl_runs
               WHERE source = ${run.source} AND mode = 'ingest' AND status IN ('succeeded', 'degraded') AND fetched > 0
                 AND started_at < ${run.started_at}
               ORDER BY started_at DESC
               LIMIT ${SHARE_BASELINE_RUNS}) p`,
  ]);
  const heldBack = `held back ${count(run.invalid)} of ${count(run.fetched)} records`;
  if (changes.length > 0) {
    const named = changes.map((c) => `${describeChange(summaryOfRow(c))} (${count(Number(c.held_back))} records)`);
    return { status: 'degraded', reason: `${heldBack}: schema change: ${named.join(' | ')}` };
  }
  if (run.invalid === run.fetched) return { status: 'degraded', reason: `${heldBack}: no record was valid` };

  const share = 1 - run.invalid / run.fetched;
  if (previous && previous.runs >= MIN_SHARE_BASELINE_RUNS && previous.median !== null && share < previous.median - SHARP_DROP) {
    return {
      status: 'degraded',
      reason: `${heldBack}: ${percent(share)} valid, against a median of ${percent(previous.median)} over the previous ${previous.runs} runs`,
    };
  }
  return { status: 'succeeded' };
}

const count = (n: number) => n.toLocaleString('en-US');
const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;
