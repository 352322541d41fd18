import { watchQuoteChanges } from '../../src/db/change-feed';
import type { ApiDeps } from '../deps';
import type { Route } from '../route';
import { compareRunsRoute } from './compare-runs';
import { dataRoute } from './data';
import { healthRoute } from './health';
import { runRoute, runsRoute } from './runs';
import { statsRoute } from './stats';

/** Every endpoint, in the order the OpenAPI document lists them. */
export function allRoutes(deps: ApiDeps): Route<never, never, never>[] {
  const changes = deps.readCacheMs > 0 ? watchQuoteChanges(deps.sql, deps.log) : undefined;
  return [
    dataRoute(deps.sql, deps.readCacheMs, changes),
    statsRoute(deps.sql, deps.readCacheMs),
    runsRoute(deps.sql),
    runRoute(deps),
    compareRunsRoute(deps.sql),
    healthRoute(deps),
  ] as Route<never, never, never>[];
}
