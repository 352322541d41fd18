import { readCheckpoint } from '../src/db/checkpoints';
import { beginRun, finishRun, type RunStart, type RunStatus } from '../src/db/runs';
import { sourceNamed } from '../src/sources';
import type { Cursor, RunCounts } from '../src/shared/types';
import type { ActivityDeps } from './deps';

export function createRunActivities({ sql, sources, log }: ActivityDeps) {
  return {
    /**
     * Opens (or, after a reset, reopens) the run's row and decides where it reads from: the checkpoint of an
     * unfinished run, or wherever the source says a new run begins.
     */
    async startRun(run: RunStart): Promise<{ cursor: Cursor; counts: RunCounts; batches: number }> {
      const source = sourceNamed(sources, run.source);
      const saved = await readCheckpoint(sql, run.source);
      const cursor = await source.startCursor(saved);
      const so_far = await beginRun(sql, run);
      log.info({ source: run.source, runId: run.runId, cursor, resumed: saved ? !saved.complete : false }, 'run started');
      return { cursor, ...so_far };
    },

    async endRun(args: { runId: string; source: string; status: Exclude<RunStatus, 'running'>; error?: string }): Promise<void> {
      await finishRun(sql, args);
      log.info({ source: args.source, runId: args.runId, status: args.status, err: args.error }, 'run finished');
    },
  };
}
