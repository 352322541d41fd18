import { changeShownBy, describeChange } from '../src/contracts/attribution';
import { sourceContract } from '../src/contracts/contract';
import { lockBatch, markBatchLoaded } from '../src/db/batches';
import { listingOf, resolveAssets } from '../src/db/assets';
import { saveCheckpoint } from '../src/db/checkpoints';
import { claimFaultInjection } from '../src/db/faults';
import { quarantine, type QuarantinedRecord } from '../src/db/quarantine';
import { readRaw } from '../src/db/raw';
import { releaseQuarantined } from '../src/db/replay';
import { addHeldBack, type RecordedChange } from '../src/db/schema-changes';
import { advanceLatestQuotes, insertQuotes } from '../src/db/quotes';
import { addRunCounts } from '../src/db/runs';
import type { NormalizedQuote } from '../src/schemas/quote';
import { SOURCE_NAMES, sourceNamed } from '../src/sources';
import { InjectedFailure, InjectedFatalFailure, SchemaChangeFrozenError } from '../src/shared/errors';
import { DEFAULT_SCHEMA_CHANGE_POLICY, type FailureInjection, type RunCounts } from '../src/shared/types';
import type { ActivityDeps } from './deps';
import { heartbeating } from './heartbeat';
import { readThroughMapping, watchContract, type ContractVerdict } from './watch-contract';

export interface LoadBatchInput {
  source: string;
  runId: string;
  batchId: string;
  failure?: FailureInjection;
  /** Records the run had committed before this batch: where failure injection counts from. */
  committedBefore: number;
  /** The Temporal execution loading it, recorded on the run for the Web UI link. */
  temporalRunId?: string;
  /**
   * A replay's batch (replaySource in workflows/ingest-source.ts): stored payloads read again under today's code
   * and mapping.
   * Its changes of shape were recorded when they were fetched, the source's checkpoint is not its to move, and
   * quarantined records that now load leave quarantine.
   */
  replay?: boolean;
}

export function createLoadActivities({ sql, sources, log, schemaChanges }: ActivityDeps) {
  return {
    /**
     * Normalize + upsert + checkpoint, in ONE transaction: the quotes, the quarantined records, the schema
     * changes the batch shows, the run's counts and the checkpoint that covers them commit together or not at
     * all. A retry of a committed load finds the batch marked loaded and returns what it counted then. A
     * replay's batch commits the same way, without the checkpoint.
     */
    async loadBatch(input: LoadBatchInput): Promise<RunCounts> {
      const source = sourceNamed(sources, input.source);
      const policy = schemaChanges?.[input.source] ?? DEFAULT_SCHEMA_CHANGE_POLICY;
      const outcome = await heartbeating(() => sql.begin(async (tx) => {
        const batch = await lockBatch(tx, input.batchId);
        if (!batch) throw new Error(`batch ${input.batchId} does not exist`);
        if (batch.loaded) return { counts: { fetched: batch.fetched, ...batch.loaded }, verdict: undefined };

        const raws = await readRaw(tx, batch.rawIds);
        const payloads = raws.map((r) => r.payload);
        // A replay's changes of shape were recorded when its payloads were fetched: it only reads them as mapped now.
        const verdict: ContractVerdict = input.replay
          ? { ...(await readThroughMapping(tx, source.name, payloads)), changes: [], unsettled: [], announce: [], autoAccepted: [] }
          : await watchContract(tx, { source, runId: input.runId, batchId: input.batchId, payloads, policy });
        // Frozen: only the changes are committed; the batch stays unloaded and the checkpoint where it was.
        if (policy.policy === 'freeze' && verdict.unsettled.length > 0) return { counts: undefined, verdict };

        const breaking = verdict.changes.filter((c) => c.breaking);
        const contract = sourceContract(source);
        const heldBack = new Map<number, number>();
        const quotes = new Map<string, NormalizedQuote>();
        const invalid: QuarantinedRecord[] = [];
        const loadable: string[] = [];
        raws.forEach((raw, i) => {
          const payload = verdict.payloads[i];
          const outcome = source.normalize({ id: raw.sourceRecordId, payload, locator: raw.locator ?? '' });
          if (!outcome.ok) {
            // The change behind it, when the record shows one: the reason an operator can act on.
            const change = changeShownBy(payload, breaking, contract);
            if (change) heldBack.set(change.id, (heldBack.get(change.id) ?? 0) + 1);
            const reason = change ? `schema change: ${describeChange(change)}. ${outcome.reason}` : outcome.reason;
            invalid.push({ rawId: raw.rawId, sourceRecordId: raw.sourceRecordId, reason, payload: raw.payload });
            return;
          }
          loadable.push(raw.rawId);
          // The same coin twice in one batch (pages shift while we read them): the later observation wins.
          const q = outcome.quote;
          quotes.set(`${q.sourceAssetId}\u0000${q.sourceUpdatedAt.toISOString()}`, q);
        });

        const valid = [...quotes.values()];
        const assetIds = await resolveAssets(
          tx,
          input.source,
          uniqueBy(valid, (q) => q.sourceAssetId).map((q) => listingOf(input.source, q)),
          SOURCE_NAMES,
        );
        const rows = valid.map((q) => ({ ...q, assetId: assetIds.get(q.sourceAssetId) as string }));
        const inserted = await insertQuotes(tx, { source: input.source, runId: input.runId, quotes: rows });
        await advanceLatestQuotes(tx, { source: input.source, runId: input.runId, quotes: rows });
        await quarantine(tx, { source: input.source, runId: input.runId, records: invalid });
        await addHeldBack(tx, { runId: input.runId, byChange: heldBack });
        const result: RunCounts = {
          fetched: batch.fetched,
          inserted,
          unchanged: batch.rawIds.length - invalid.length - inserted,
          invalid: invalid.length,
        };
        // A record held back before that loads now (under a mapping, or replayed) leaves quarantine.
        await releaseQuarantined(tx, { runId: input.runId, rawIds: loadable });
        if (!input.replay) {
          await saveCheckpoint(tx, {
            source: input.source,
            cursor: batch.cursorAfter,
            complete: batch.done,
            runId: input.runId,
            batchId: input.batchId,
            watermark: latest(valid),
          });
        }
        await addRunCounts(tx, input.runId, result, input.temporalRunId);
        await markBatchLoaded(tx, input.batchId, result);
        return { counts: result, verdict };
      }));
      if (outcome.verdict) announce(input, outcome.verdict);
      if (!outcome.counts) throw frozen(input, outcome.verdict?.unsettled ?? []);
      const { counts } = outcome;
      await injectFailure(input, counts.fetched);
      return counts;
    },
  };

  /** After the commit: a warning per change seen for the first time, and one per rename accepted by itself. */
  function announce(input: LoadBatchInput, verdict: ContractVerdict): void {
    for (const change of verdict.announce) {
      log.warn(
        { source: input.source, runId: input.runId, kind: change.kind, field: change.field, breaking: change.breaking,
          records: change.records, suggestedField: change.suggested?.field, confidence: change.suggested?.confidence,
          schemaChangeId: change.id },
        `schema change in ${input.source}: ${describeChange(change)}`,
      );
    }
    for (const settled of verdict.autoAccepted) {
      log.warn({ source: input.source, runId: input.runId, schemaChangeId: settled.id, field: settled.field }, `schema change accepted by itself: ${settled.resolution}`);
    }
  }

  /** Policy freeze: the run stops here, naming what changed and how to go on. */
  function frozen(input: LoadBatchInput, changes: readonly RecordedChange[]): Error {
    const named = changes.map((c) => `#${c.id} ${describeChange(c)}`).join('; ');
    return new SchemaChangeFrozenError(
      `schema change in ${input.source} (policy freeze): ${named}. Nothing of batch ${input.batchId} was loaded and the ` +
        'checkpoint did not move: accept, map or ignore the change (etl schema-changes), then reset the run or start the next one',
    );
  }

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
