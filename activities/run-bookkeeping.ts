import { readCheckpoint } from '../src/db/checkpoints';
import { replayResumePoint, sourceOfRun } from '../src/db/replay';
import { judgeFinishedRun } from '../src/db/run-outcome';
import { beginRun, finishRun, type RunStart } from '../src/db/runs';
import { sourceNamed } from '../src/sources';
import { InvalidReplayError } from '../src/shared/errors';
import type { Cursor, FailureInjection, RunCounts, RunEnd, RunStatus } from '../src/shared/types';
import type { ActivityDeps } from './deps';

export function createRunActivities({ sql, sources, log, defaultFailure }: ActivityDeps) {
  return {
    /**
     * Opens (or, after a reset, reopens) the run's row and decides where it reads from: the checkpoint of an
     * unfinished run, or wherever the source says a new run begins. A run that asked for no failure injection
     * gets the worker's configured default, decided here once and kept in history.
     */
    async startRun(
      run: RunStart,
    ): Promise<{ cursor: Cursor; counts: RunCounts; batches: number; failure?: FailureInjection; finished?: true }> {
      const source = sourceNamed(sources, run.source);
      const failure = run.failure ?? defaultFailure;
      if (run.replay) {
        // A replay reads the raw store in id order, past what it committed already; the source's own checkpoint is
        // not its to read or move. Recorded first, so a refused replay shows in /runs with its reason.
        const soFar = await beginRun(sql, { ...run, failure });
        if ('run' in run.replay && (await sourceOfRun(sql, run.replay.run)) !== run.source) {
          throw new InvalidReplayError(`no run ${run.replay.run} of ${run.source} to replay`);
        }
        const afterRawId = await replayResumePoint(sql, run.runId);
        log.info({ source: run.source, runId: run.runId, replay: run.replay, afterRawId, failure }, 'replay started');
        return { cursor: { afterRawId }, ...soFar, ...(failure ? { failure } : {}) };
      }
      const saved = await readCheckpoint(sql, run.source);
      const soFar = await beginRun(sql, { ...run, failure });
      if (saved?.complete && saved.runId === run.runId) {
        // A reset of a run that had read its upstream to the end (its failure came after the last batch
        // committed): nothing is left to read, and reading again from the start would count every record twice.
        log.info({ source: run.source, runId: run.runId }, 'run resumed after its last batch: nothing left to read');
        return { cursor: saved.cursor, ...soFar, ...(failure ? { failure } : {}), finished: true };
      }
      const cursor = await source.startCursor(saved);
      log.info({ source: run.source, runId: run.runId, cursor, resumed: saved ? !saved.complete : false, failure }, 'run started');
      return { cursor, ...soFar, ...(failure ? { failure } : {}) };
    },

    /**
     * Records how the run ended and returns its status. A run that read its upstream to the end is judged by
     * what it loaded (src/db/run-outcome.ts): held-back records make it `degraded`, never a plain success.
     */
    async endRun(args: {
      runId: string;
      source: string;
      status: RunEnd;
      error?: string;
      temporalRunId?: string;
    }): Promise<Exclude<RunStatus, 'running'>> {
      const outcome = args.status === 'succeeded' ? await judgeFinishedRun(sql, args.runId) : { status: args.status };
      await finishRun(sql, { ...args, ...outcome });
      const reason = 'reason' in outcome ? outcome.reason : undefined;
      if (outcome.status === 'degraded') log.warn({ source: args.source, runId: args.runId, status: outcome.status, reason }, `run degraded: ${reason}`);
      else log.info({ source: args.source, runId: args.runId, status: outcome.status, err: args.error }, 'run finished');
      return outcome.status;
    },
  };
}
