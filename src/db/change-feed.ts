import type { Logger } from '../logger';
import type { Sql } from './sql';

/** The channel the triggers of sql/003–005 notify when quotes or latest_quotes change, in the writing transaction. */
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
 * after a reconnect). A first LISTEN that fails (the database not up yet) is tried again every `retryMs`; should
 * postgres.js's own re-listening fail, no more versions come, so readers also bound how long they trust one
 * (API_READ_CACHE_MS).
 */
export function watchQuoteChanges(sql: Sql, log: Logger, retryMs = 10_000): ChangeFeed {
  let version: number | undefined;
  const bump = () => {
    version = (version ?? 0) + 1;
  };
  const listen = () =>
    sql.listen(QUOTES_CHANGED, bump, bump).catch((err: unknown) => {
      if ((err as { code?: string }).code === 'CONNECTION_ENDED') return; // the pool was closed: shutting down
      log.warn({ err, retryInMs: retryMs }, 'cannot listen for quote changes: /data pages are not cached meanwhile');
      setTimeout(listen, retryMs).unref();
    });
  void listen();
  return { version: () => version };
}
