import { RUN_ID_PATTERN } from '../src/shared/names';
import { RUN_STATUSES } from '../src/shared/types';
import { z } from './zod';

/** Response pieces shared by the run endpoints (/runs, /runs/:run_id, /compare-runs, /stats, /health). */

export const timestamp = z.date().or(z.string()).openapi({ type: 'string', format: 'date-time' });
/** `timestamp.nullable()` would keep the override above and document a timestamp that is never null. */
export const nullableTimestamp = z.date().or(z.string()).nullable().openapi({ type: ['string', 'null'], format: 'date-time' });

/** etl_runs.run_id: Temporal's first run id of the chain, a UUID. */
export const runIdParam = z
  .string()
  .regex(RUN_ID_PATTERN, 'must be a run id (a UUID)')
  .openapi({ example: '0198c2b4-3f3a-7c1e-9d52-8e1f0a6b4c21' });

export const RunCounts = z.object({
  fetched: z.number().int(),
  inserted: z.number().int(),
  unchanged: z.number().int(),
  invalid: z.number().int(),
});

export const Run = z
  .object({
    run_id: z.string(),
    source: z.string(),
    trigger: z.enum(['schedule', 'api', 'cli']),
    mode: z.enum(['ingest', 'replay']).openapi({ description: 'replay: stored payloads re-normalized by `etl replay`' }),
    selection: z
      .union([z.object({ run: z.string() }), z.object({ since: z.string() }), z.object({ quarantined: z.literal(true) })])
      .nullable()
      .openapi({ description: "a replay's selection: one run's payloads, those fetched since a time, or the quarantined" }),
    status: z.enum(RUN_STATUSES),
    status_reason: z.string().nullable().openapi({
      description: 'degraded: why, and how many records were held back',
    }),
    workflow_id: z.string(),
    temporal_run_id: z.string().openapi({ description: 'the latest Temporal run of the chain' }),
    started_at: timestamp,
    finished_at: nullableTimestamp,
    duration_seconds: z.number().nullable().openapi({ description: 'null while running' }),
    counts: RunCounts,
    batches: z.number().int(),
    error: z.string().nullable(),
    failure_injection: z.object({ after_records: z.number().int(), mode: z.string() }).nullable(),
  })
  .openapi('Run');

export const Outlier = z
  .object({ reasons: z.array(z.string()) })
  .nullable()
  .openapi('RunOutlier', {
    description:
      "null unless the run's duration or records fetched are far from the median of the source's previous finished runs",
  });
