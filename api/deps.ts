import type { Client } from '@temporalio/client';
import type { Sql } from '../src/db/sql';
import type { Logger } from '../src/logger';

/** What the API needs: it reads PostgreSQL and talks to Temporal through the client only. */
export interface ApiDeps {
  sql: Sql;
  log: Logger;
  version: string;
  temporal: {
    client: Client;
    namespace: string;
    taskQueue: string;
    /** Base URL of the Temporal Web UI, for links to runs. */
    webUiUrl: string;
  };
  /**
   * How long statistics and /data pages may be reused (API_READ_CACHE_MS); pages also go at the next committed
   * change to quotes. 0 computes everything for every request.
   */
  readCacheMs: number;
  /** When set, every POST requires it in X-API-Key. */
  apiKey?: string | undefined;
}
