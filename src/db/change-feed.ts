import type { Logger } from '../logger';
import type { Sql } from './sql';

/** The channel sql/003's triggers notify when quotes or latest_quotes change, in the writing transaction. */
export const QUOTES_CHANGED = 'quotes_changed';

export interface ChangeFeed {
  /**
   * Changes whenever quotes may have changed: on every notification, and whenever the listening connection
   * reconnects, since notifications sent while it was down are lost. Undefined until the first LISTEN is in
   * place: nothing read before then may be reused.
   */
  version(): number | undefined;
}

/**
 * Listens for committed quote changes on a connection of its own (postgres.js keeps one per pool and re-listens
 * after a reconnect). Should re-listening itself fail, no more versions come: readers must also bound how long
 * they trust one (API_READ_CACHE_MS).
 */
export function watchQuoteChanges(sql: Sql, log: Logger): ChangeFeed {
  let version: number | undefined;
  const bump = () => {
    version = (version ?? 0) + 1;
  };
  sql.listen(QUOTES_CHANGED, bump, bump).catch((err: unknown) => {
    log.warn({ err }, 'cannot listen for quote changes: /data pages are not cached');
  });
  return { version: () => version };
}
