import type { ChaosInfrastructure } from './infrastructure';
import type { Injection } from './scenario';
import type { SystemUnderTest } from './system';

/** Longer than one retry of a fetch (2 s, then 4 s): the run sees connection refused at least twice. */
export const UPSTREAM_CUT_MS = 8_000;

export interface Failure {
  /** As the table names it. */
  name: string;
  /** Short, for --only and for database and task queue names. */
  id: string;
  topology: SystemUnderTest['topology'];
  injection(infra: ChaosInfrastructure, pick: <T>(items: readonly T[]) => T): Injection;
}

/** The chaos table's rows (README, "Chaos suite"), in the order they run. */
export const FAILURES: Failure[] = [
  {
    name: 'a worker SIGKILLed (the other takes over)',
    id: 'worker-kill',
    topology: 'distributed',
    injection: (_infra, pick) => ({
      inject: (system) => system.killWorkerRunning(pick(['coingecko', 'coinpaprika', 'csv'])),
      // Heartbeats let Temporal give up on the dead worker's batch within the 30 s heartbeat timeout; without them
      // the retry would wait out load's 5-minute (or fetch's 10-minute) start-to-close timeout.
      maxStallMs: 60_000,
    }),
  },
  {
    name: 'external PostgreSQL restarted (fast shutdown)',
    id: 'pg-external',
    topology: 'distributed',
    injection: (infra) => ({ inject: () => infra.restartPostgres(), healthGoesDown: true }),
  },
  {
    name: "npm start's embedded PostgreSQL restarted (pg_ctl restart -m fast)",
    id: 'pg-embedded',
    topology: 'npm start',
    injection: () => ({ inject: (system) => system.restartOwnPostgres(), healthGoesDown: true }),
  },
  {
    name: 'Temporal dev server stopped and started (state on disk)',
    id: 'temporal',
    topology: 'distributed',
    injection: (infra) => ({ inject: () => infra.restartTemporal(), healthGoesDown: true }),
  },
  {
    name: `upstream cut for ${UPSTREAM_CUT_MS / 1000} s (APIs refuse connections, CSV file gone)`,
    id: 'upstream',
    topology: 'distributed',
    injection: (infra) => ({ inject: () => infra.cutUpstream(UPSTREAM_CUT_MS) }),
  },
  {
    name: 'the API process SIGKILLed while serving',
    id: 'api-kill',
    topology: 'distributed',
    injection: () => ({ inject: (system) => system.killApi() }),
  },
];
