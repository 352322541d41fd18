import type { ActivityDeps } from './deps';
import { withFailureMapping } from './failures';
import { createFetchActivities } from './fetch-batch';
import { createLoadActivities } from './load-batch';
import { createRunActivities } from './run-bookkeeping';
import { createReplayActivities } from './select-replay-batch';

export type { ActivityDeps } from './deps';

/** The worker's activities, built over their dependencies (samples-typescript's dependency-injection pattern). */
export function createActivities(deps: ActivityDeps) {
  const activities = {
    ...createRunActivities(deps),
    ...createFetchActivities(deps),
    ...createLoadActivities(deps),
    ...createReplayActivities(deps),
  };
  return mapValues(activities, (fn) => ((...args: never[]) => withFailureMapping(() => (fn as (...a: never[]) => Promise<unknown>)(...args))) as typeof fn);
}

export type Activities = ReturnType<typeof createActivities>;

function mapValues<T extends Record<string, unknown>>(obj: T, fn: <K extends keyof T>(value: T[K]) => T[K]): T {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, fn(v as T[keyof T])])) as T;
}
