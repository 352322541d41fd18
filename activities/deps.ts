import type { Sql } from '../src/db/sql';
import type { Logger } from '../src/logger';
import type { Sources } from '../src/sources';

/** What activities need from the outside world; the worker builds it once, tests build their own. */
export interface ActivityDeps {
  sql: Sql;
  sources: Sources;
  log: Logger;
  /** Records per batch. */
  batchSize: number;
}
