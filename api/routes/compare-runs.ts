import { getRunView, runDataChanges, runDeltas } from '../../src/db/run-queries';
import type { Sql } from '../../src/db/sql';
import { badRequest, notFound } from '../errors';
import { envelope } from '../middleware/request-context';
import { defineRoute } from '../route';
import { Envelope } from '../schemas';
import { Run, RunCounts, runIdParam, timestamp } from '../schemas-runs';
import { z } from '../zod';

/** Added and missing listings are listed up to this many (their totals are always given); price moves top 10. */
const LIST_LIMIT = 100;
const MOVES_LIMIT = 10;

export const CompareRunsQuery = z.object({
  run_id_1: runIdParam.openapi({ description: 'the earlier run, usually' }),
  run_id_2: runIdParam.openapi({ description: 'the run compared with run_id_1 (deltas are run 2 − run 1)' }),
});

const Listing = z
  .object({ source_asset_id: z.string(), asset_id: z.string().nullable(), symbol: z.string().nullable(), name: z.string().nullable() })
  .openapi('Listing');
const Listings = z.object({ total: z.number().int(), items: z.array(Listing).openapi({ description: `at most ${LIST_LIMIT}` }) });

export const CompareRunsResponse = Envelope.extend({
  source: z.string(),
  run_1: Run,
  run_2: Run,
  deltas: z.object({
    counts: RunCounts,
    batches: z.number().int(),
    duration_seconds: z.number().nullable(),
    status: z.object({ from: z.string(), to: z.string(), changed: z.boolean() }),
  }),
  changes: z.object({
    added: Listings.openapi({ description: 'listings run 2 read that no earlier run had quoted' }),
    missing: Listings.openapi({ description: 'listings run 1 read and run 2 did not (or could not normalize)' }),
    price_moves: z.object({
      changed: z.number().int().openapi({ description: 'listings read by both runs whose price changed' }),
      top: z.array(
        z.object({
          source_asset_id: z.string(),
          asset_id: z.string(),
          symbol: z.string(),
          name: z.string(),
          price_usd_1: z.number(),
          price_usd_2: z.number(),
          change_pct: z.number(),
          observed_at_1: timestamp,
          observed_at_2: timestamp,
        }),
      ).openapi({ description: `the ${MOVES_LIMIT} biggest by |change_pct|` }),
    }),
  }),
}).openapi('RunComparison');

export function compareRunsRoute(sql: Sql) {
  return defineRoute({
    method: 'get',
    path: '/compare-runs',
    summary: 'Two runs of one source side by side: count deltas, listings added and missing, biggest price moves',
    tags: ['runs'],
    query: CompareRunsQuery,
    responses: {
      200: { description: 'the comparison', schema: CompareRunsResponse },
      400: { description: 'missing or malformed run id, or runs of different sources' },
      404: { description: 'a run does not exist' },
    },
    async handler({ query, req }) {
      const [run1, run2] = await Promise.all([getRunView(sql, query.run_id_1), getRunView(sql, query.run_id_2)]);
      if (!run1) throw notFound(`run_id_1: run ${query.run_id_1}`);
      if (!run2) throw notFound(`run_id_2: run ${query.run_id_2}`);
      if (run1.source !== run2.source) {
        throw badRequest('run_id_2', `a ${run2.source} run, but run_id_1 is a ${run1.source} run: only runs of one source can be compared`);
      }
      const changes = await runDataChanges(sql, {
        source: run1.source,
        runId1: run1.run_id,
        runId2: run2.run_id,
        listLimit: LIST_LIMIT,
        movesLimit: MOVES_LIMIT,
      });
      return {
        status: 200,
        body: {
          ...envelope(req),
          source: run1.source,
          run_1: run1,
          run_2: run2,
          deltas: runDeltas(run1, run2),
          changes,
        },
      };
    },
  });
}
