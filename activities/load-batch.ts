import { lockBatch, markBatchLoaded } from '../src/db/batches';
import { resolveAssets } from '../src/db/assets';
import { saveCheckpoint } from '../src/db/checkpoints';
import { claimFaultInjection } from '../src/db/faults';
import { quarantine, type QuarantinedRecord } from '../src/db/quarantine';
import { readRaw } from '../src/db/raw';
import { advanceLatestQuotes, insertQuotes } from '../src/db/quotes';
import { addRunCounts } from '../src/db/runs';
import type { NormalizedQuote } from '../src/schemas/quote';
import { sourceNamed } from '../src/sources';
import { InjectedFailure, InjectedFatalFailure } from '../src/shared/errors';
import type { FailureInjection, RunCounts } from '../src/shared/types';
import type { ActivityDeps } from './deps';
import { heartbeating } from './heartbeat';
import { watchContract } from './watch-contract';

export interface LoadBatchInput {
  source: string;
  runId: string;
  batchId: string;
  failure?: FailureInjection;
  /** Records the run had committed before this batch: where failure injection counts from. */
  committedBefore: number;
  /** The Temporal execution loading it, recorded on the run for the Web UI link. */
  temporalRunId?: string;
}

export function createLoadActivities({ sql, sources, log }: ActivityDeps) {
  return {
    /**
     * Normalize + upsert + checkpoint, in ONE transaction: the quotes, the quarantined records, the schema
     * changes the batch shows, the run's counts and the checkpoint that covers them commit together or not at
     * all. A retry of a committed load finds the batch marked loaded and returns what it counted then.
     */
    async loadBatch(input: LoadBatchInput): Promise<RunCounts> {
      const source = sourceNamed(sources, input.source);
      const { counts, changes } = await heartbeating(() => sql.begin(async (tx) => {
        const batch = await lockBatch(tx, input.batchId);
        if (!batch) throw new Error(`batch ${input.batchId} does not exist`);
        if (batch.loaded) return { counts: { fetched: batch.fetched, ...batch.loaded }, changes: [] };

        const raws = await readRaw(tx, batch.rawIds);
        const changes = await watchContract(tx, { source, runId: input.runId, payloads: raws.map((r) => r.payload) });
        const quotes = new Map<string, NormalizedQuote>();
        const invalid: QuarantinedRecord[] = [];
        for (const raw of raws) {
          const outcome = source.normalize({ id: raw.sourceRecordId, payload: raw.payload, locator: raw.locator ?? '' });
          if (!outcome.ok) {
            invalid.push({ rawId: raw.rawId, sourceRecordId: raw.sourceRecordId, reason: outcome.reason, payload: raw.payload });
            continue;
          }
          // The same coin twice in one batch (pages shift while we read them): the later observation wins.
          const q = outcome.quote;
          quotes.set(`${q.sourceAssetId}\u0000${q.sourceUpdatedAt.toISOString()}`, q);
        }

        const valid = [...quotes.values()];
        const assetIds = await resolveAssets(
          tx,
          input.source,
          uniqueBy(valid, (q) => q.sourceAssetId).map((q) => ({ source: input.source, ...q })),
        );
        const rows = valid.map((q) => ({ ...q, assetId: assetIds.get(q.sourceAssetId) as string }));
        const inserted = await insertQuotes(tx, { source: input.source, runId: input.runId, quotes: rows });
        await advanceLatestQuotes(tx, { source: input.source, runId: input.runId, quotes: rows });
        await quarantine(tx, { source: input.source, runId: input.runId, records: invalid });
        const result: RunCounts = {
          fetched: batch.fetched,
          inserted,
          unchanged: batch.rawIds.length - invalid.length - inserted,
          invalid: invalid.length,
        };
        await saveCheckpoint(tx, {
          source: input.source,
          cursor: batch.cursorAfter,
          complete: batch.done,
          runId: input.runId,
          batchId: input.batchId,
          watermark: latest(valid),
        });
        await addRunCounts(tx, input.runId, result, input.temporalRunId);
        await markBatchLoaded(tx, input.batchId, result);
        return { counts: result, changes };
      }));
      for (const change of changes) {
        log.warn(
          { source: input.source, runId: input.runId, kind: change.kind, field: change.field, breaking: change.breaking,
            records: change.records, suggestedField: change.suggested?.field, confidence: change.suggested?.confidence },
          `schema change in ${input.source}: ${change.kind} ${change.field}` +
            (change.suggested ? ` (likely now ${change.suggested.field}, confidence ${change.suggested.confidence})` : ''),
        );
      }

      await injectFailure(input, counts.fetched);
      return counts;
    },
  };

  /** Failure injection: after the batch that brings the run to N committed records, once per run. */
  async function injectFailure(input: LoadBatchInput, fetched: number): Promise<void> {
    const failure = input.failure;
    if (!failure || input.committedBefore + fetched < failure.afterRecords) return;
    if (!(await claimFaultInjection(sql, input.runId))) return;
    const committed = input.committedBefore + fetched;
    const message = `injected failure (${failure.mode}) after ${committed} committed records (asked: ${failure.afterRecords})`;
    log.warn({ source: input.source, runId: input.runId, committed }, message);
    throw failure.mode === 'fatal' ? new InjectedFatalFailure(message) : new InjectedFailure(message);
  }
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) seen.set(key(item), item);
  return [...seen.values()];
}

function latest(quotes: readonly NormalizedQuote[]): Date | null {
  let max: Date | null = null;
  for (const q of quotes) if (!max || q.sourceUpdatedAt > max) max = q.sourceUpdatedAt;
  return max;
}
