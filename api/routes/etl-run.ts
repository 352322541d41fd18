import { SOURCE_NAMES } from '../../src/sources';
import { startIngest } from '../../src/temporal/start-run';
import type { ApiDeps } from '../deps';
import { requireApiKey } from '../middleware/api-key';
import { envelope } from '../middleware/request-context';
import { defineRoute } from '../route';
import { Envelope, sourceParam } from '../schemas';
import { z } from '../zod';

const RunRequest = z
  .object({
    source: z.union([sourceParam, z.literal('all')]).default('all'),
    failAfterRecords: z.number().int().min(0).optional().openapi({ description: 'failure injection: fail after N committed records' }),
    mode: z.enum(['once', 'fatal']).optional().openapi({ description: 'failure injection mode (default once)' }),
  })
  .strict()
  .refine((b) => b.mode === undefined || b.failAfterRecords !== undefined, {
    message: 'mode needs failAfterRecords',
    path: ['mode'],
  })
  .openapi('RunRequest');

const RunStarted = z.object({
  source: z.string(),
  workflow_id: z.string(),
  run_id: z.string(),
  started: z.boolean().openapi({ description: 'false: a run of this source was already in flight and is returned' }),
  web_ui_url: z.string(),
});

const RunResponse = Envelope.extend({ runs: z.array(RunStarted) }).openapi('RunsStarted');

export function etlRunRoute(deps: ApiDeps) {
  const { client, namespace, taskQueue, webUiUrl } = deps.temporal;
  return defineRoute({
    method: 'post',
    path: '/etl/run',
    summary: 'Start a run of one source or all (a run already in flight is returned, not duplicated)',
    tags: ['etl'],
    body: RunRequest,
    guard: (req) => requireApiKey(req, deps.apiKey),
    responses: {
      202: { description: 'runs started or already running', schema: RunResponse },
      400: { description: 'bad body' },
      401: { description: 'missing or wrong X-API-Key' },
      503: { description: 'Temporal unavailable' },
    },
    async handler({ body, req }) {
      const sources = body.source === 'all' ? SOURCE_NAMES : [body.source];
      const failure = body.failAfterRecords === undefined ? undefined : { afterRecords: body.failAfterRecords, mode: body.mode ?? 'once' };
      const runs = [];
      for (const source of sources) {
        const run = await startIngest(client, { source, trigger: 'api', taskQueue, failure });
        runs.push({
          source,
          workflow_id: run.workflowId,
          run_id: run.runId,
          started: run.started,
          web_ui_url: `${webUiUrl}/namespaces/${namespace}/workflows/${run.workflowId}`,
        });
      }
      return { status: 202, body: { ...envelope(req), runs } };
    },
  });
}
