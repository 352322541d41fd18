import type { Client } from '@temporalio/client';
import type { ChangeFeed } from '../../src/db/change-feed';
import type { ApiDeps } from '../deps';
import type { Route } from '../route';
import { compareRunsRoute } from './compare-runs';
import { dataRoute } from './data';
import { healthRoute } from './health';
import { acceptReviewRoute, auditRoute, mergeRoute, overrideRoute, rejectReviewRoute, reviewListRoute, splitRoute } from './identity';
import { runRoute, runsRoute } from './runs';
import { acceptSchemaChangeRoute, ignoreSchemaChangeRoute, schemaChangesRoute, sourceMappingRoute } from './schema-changes';
import { statsRoute } from './stats';

/**
 * Every endpoint, in the order the OpenAPI document lists them. `changes` lets /data and /health reuse answers
 * safely; `probe` is the Temporal client /health checks through.
 */
export function allRoutes(deps: ApiDeps, { changes, probe }: { changes?: ChangeFeed | undefined; probe?: Client | undefined } = {}): Route<never, never, never>[] {
  return [
    dataRoute(deps.sql, deps.readCacheMs, changes),
    statsRoute(deps.sql, deps.readCacheMs),
    runsRoute(deps.sql),
    runRoute(deps),
    compareRunsRoute(deps.sql),
    schemaChangesRoute(deps.sql),
    acceptSchemaChangeRoute(deps),
    ignoreSchemaChangeRoute(deps),
    sourceMappingRoute(deps.sql),
    reviewListRoute(deps),
    acceptReviewRoute(deps),
    rejectReviewRoute(deps),
    mergeRoute(deps),
    splitRoute(deps),
    overrideRoute(deps),
    auditRoute(deps),
    healthRoute(deps, { changes, probe }),
  ] as Route<never, never, never>[];
}
