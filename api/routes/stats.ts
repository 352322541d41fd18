import type { Sql } from '../../src/db/sql';
import { DURATION_RUNS, pipelineStats } from '../../src/db/stats-queries';
import { SOURCE_NAMES } from '../../src/sources';
import { envelope } from '../middleware/request-context';
import { defineRoute } from '../route';
import { readCache } from '../read-cache';
import { Envelope } from '../schemas';
import { nullableTimestamp, Run } from '../schemas-runs';
import { z } from '../zod';

const count = z.number().int();

export const PipelineStats = z
  .object({
    runs: z.object({
      total: count,
      succeeded: count,
      degraded: count.openapi({ description: 'finished with records held back (status_reason on the run)' }),
      failed: count,
      cancelled: count,
      running: count,
    }),
    records_processed: count.openapi({ description: 'records fetched, summed over every run' }),
    last_success_at: nullableTimestamp,
    last_failure_at: nullableTimestamp,
    duration_seconds: z
      .object({ average: z.number().nullable(), p95: z.number().nullable() })
      .openapi({ description: `over each source's ${DURATION_RUNS.toLocaleString('en')} newest finished runs (overall: over all of those)` }),
    last_run: Run.nullable(),
    rows: z.object({
      raw: count.openapi({ description: 'raw_payloads rows' }),
      normalized: count.openapi({ description: 'quotes rows' }),
      quarantined: count.openapi({ description: 'records held in quarantine now (released ones are kept as history, not counted)' }),
    }),
  })
  .openapi('PipelineStats');

export const StatsResponse = Envelope.extend({
  overall: PipelineStats,
  sources: z.array(PipelineStats.extend({ source: z.string() })),
}).openapi('Stats');

export function statsRoute(sql: Sql, readCacheMs: number) {
  // Aggregates over all history: concurrent requests share one computation, which serves for a moment.
  const cached = readCache<Awaited<ReturnType<typeof pipelineStats>>>(readCacheMs);
  return defineRoute({
    method: 'get',
    path: '/stats',
    summary: 'ETL statistics per source and overall: runs, records, durations, last run, table sizes',
    tags: ['runs'],
    responses: { 200: { description: 'statistics', schema: StatsResponse } },
    async handler({ req }) {
      const stats = await cached('stats', () => pipelineStats(sql, SOURCE_NAMES));
      return { status: 200, body: { ...envelope(req), ...stats } };
    },
  });
}
