import { readCheckpoint } from '../src/db/checkpoints';
import { beginRun, finishRun, type RunStart, type RunStatus } from '../src/db/runs';
import { sourceNamed } from '../src/sources';
import type { Cursor, FailureInjection, RunCounts } from '../src/shared/types';
import type { ActivityDeps } from './deps';

export function createRunActivities({ sql, sources, log, defaultFailure }: ActivityDeps) {
  return {
    /**
     * Opens (or, after a reset, reopens) the run's row and decides where it reads from: the checkpoint of an
     * unfinished run, or wherever the source says a new run begins. A run that asked for no failure injection
     * gets the worker's configured default, decided here once and kept in history.
     */
    async startRun(run: RunStart): Promise<{ cursor: Cursor; counts: RunCounts; batches: number; failure?: FailureInjection }> {
      const source = sourceNamed(sources, run.source);
      const failure = run.failure ?? defaultFailure;
      const saved = await readCheckpoint(sql, run.source);
      const cursor = await source.startCursor(saved);
      const soFar = await beginRun(sql, { ...run, failure });
      log.info({ source: run.source, runId: run.runId, cursor, resumed: saved ? !saved.complete : false, failure }, 'run started');
      return { cursor, ...soFar, ...(failure ? { failure } : {}) };
    },

    async endRun(args: {
      runId: string;
      source: string;
      status: Exclude<RunStatus, 'running'>;
      error?: string;
      temporalRunId?: string;
    }): Promise<void> {
      await finishRun(sql, args);
      log.info({ source: args.source, runId: args.runId, status: args.status, err: args.error }, 'run finished');
    },
  };
}
