import type { Client } from '@temporalio/client';
import { getRunView, listRuns, type RunView } from '../../src/db/run-queries';
import { schemaChangesOfRun } from '../../src/db/schema-change-queries';
import type { Sql } from '../../src/db/sql';
import { PROGRESS_QUERY } from '../../src/shared/names';
import { RUN_STATUSES, type Progress as WorkflowProgress } from '../../src/shared/types';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { envelope, pageBody } from '../middleware/request-context';
import { defineRoute } from '../route';
import { Envelope, pageQuery, Pagination, sourceParam } from '../schemas';
import { Outlier, Run, RunCounts, runIdParam } from '../schemas-runs';
import { RunSchemaChange } from '../schemas-schema-changes';
import { z } from '../zod';

/** How long GET /runs/:run_id waits for the workflow to answer its progress query. */
const PROGRESS_TIMEOUT_MS = 2_000;

export const RunsQuery = z.object({
  source: sourceParam.optional(),
  status: z.enum(RUN_STATUSES).optional(),
  ...pageQuery({ default: 20, max: 200 }),
});

export const RunsResponse = Envelope.extend({
  pagination: Pagination,
  data: z.array(Run.extend({ outlier: Outlier })),
}).openapi('RunPage');

export const RunParams = z.object({ run_id: runIdParam });

export const RunProgress = z
  .object({
    phase: z.enum(['starting', 'fetching', 'loading', 'finishing', 'done', 'failed']),
    batches: z.number().int(),
    counts: RunCounts,
    cursor: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('RunProgress', { description: "the running workflow's own answer to its progress query" });
export type RunProgress = z.infer<typeof RunProgress>;

export const RunResponse = Envelope.extend(Run.shape)
  .extend({
    web_ui_url: z.string().openapi({ description: 'the run in the Temporal Web UI' }),
    progress: RunProgress.nullable().openapi({ description: 'live progress while running; null otherwise' }),
    progress_note: z.string().nullable().openapi({ description: 'why progress is null although the run is running' }),
    schema_changes: z.array(RunSchemaChange).openapi({ description: "the changes of its upstream's shape the run met" }),
  })
  .openapi('RunDetail');

export function runsRoute(sql: Sql) {
  return defineRoute({
    method: 'get',
    path: '/runs',
    summary: 'ETL run history, newest first, each run flagged when it is an outlier for its source',
    tags: ['runs'],
    query: RunsQuery,
    responses: { 200: { description: 'a page of runs', schema: RunsResponse }, 400: { description: 'bad parameter' } },
    async handler({ query, req }) {
      return { status: 200, body: pageBody(req, query, await listRuns(sql, query)) };
    },
  });
}

export function runRoute(deps: ApiDeps) {
  return defineRoute({
    method: 'get',
    path: '/runs/:run_id',
    summary: 'One ETL run, with live progress while it runs, the schema changes it met and its link in the Temporal Web UI',
    tags: ['runs'],
    params: RunParams,
    responses: {
      200: { description: 'the run', schema: RunResponse },
      400: { description: 'malformed run id' },
      404: { description: 'no such run' },
    },
    async handler({ params, req }) {
      const [run, schemaChanges] = await Promise.all([getRunView(deps.sql, params.run_id), schemaChangesOfRun(deps.sql, params.run_id)]);
      if (!run) throw notFound(`run ${params.run_id}`);
      const { namespace, webUiUrl } = deps.temporal;
      const live = run.status === 'running' ? await queryProgress(deps.temporal.client, run) : { progress: null, note: null };
      return {
        status: 200,
        body: {
          ...envelope(req),
          ...run,
          web_ui_url: `${webUiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(run.workflow_id)}/${run.temporal_run_id}/history`,
          progress: live.progress,
          progress_note: live.note,
          schema_changes: schemaChanges,
        },
      };
    },
  });
}

type LiveProgress = { progress: RunProgress | null; note: string | null };

/**
 * Asks the workflow itself. The query goes to the workflow id's current execution, which a continue-as-new may
 * have moved past the run id stored at the start; the answer names its chain's first run id, so an answer from
 * another run of the same source is recognised and not shown. No answer within the timeout → null and a note.
 */
async function queryProgress(client: Client, run: RunView): Promise<LiveProgress> {
  const deadline = Date.now() + PROGRESS_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      client.withDeadline(deadline, () => client.workflow.getHandle(run.workflow_id).query<WorkflowProgress>(PROGRESS_QUERY)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROGRESS_TIMEOUT_MS} ms`)), PROGRESS_TIMEOUT_MS);
      }),
    ]);
    if (answer.runId !== run.run_id) return { progress: null, note: `the workflow ${run.workflow_id} is now running another run (${answer.runId})` };
    return { progress: { phase: answer.phase, batches: answer.batches, counts: answer.counts, cursor: answer.cursor }, note: null };
  } catch (err) {
    return { progress: null, note: `progress unavailable: Temporal did not answer the progress query (${reason(err)})` };
  } finally {
    clearTimeout(timer);
  }
}

function reason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}
