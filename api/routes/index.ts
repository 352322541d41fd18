import type { ApiDeps } from '../deps';
import type { Route } from '../route';
import { dataRoute } from './data';

/** Every endpoint, in the order the OpenAPI document lists them. */
export function allRoutes(deps: ApiDeps): Route<never, never, never>[] {
  return [dataRoute(deps.sql)] as Route<never, never, never>[];
}
