import type { Sql } from '../src/db/sql';
import type { Logger } from '../src/logger';
import type { Sources } from '../src/sources';
import type { FailureInjection, SchemaChangePolicy } from '../src/shared/types';

/** What activities need from the outside world; the worker builds it once, tests build their own. */
export interface ActivityDeps {
  sql: Sql;
  sources: Sources;
  log: Logger;
  /** Records per batch. */
  batchSize: number;
  /** ETL_FAIL_AFTER_N_RECORDS / ETL_FAIL_MODE: failure injection for runs that do not ask for their own. */
  defaultFailure?: FailureInjection | undefined;
  /** SCHEMA_CHANGE_POLICY and SCHEMA_AUTO_ACCEPT_CONFIDENCE, by source; a source not named gets `quarantine`. */
  schemaChanges?: Readonly<Record<string, SchemaChangePolicy>> | undefined;
}
