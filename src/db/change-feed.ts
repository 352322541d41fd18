import postgres from 'postgres';
import type { Logger } from '../logger';
import type { Sql } from './sql';

/** The channel the triggers of sql/003–005 notify when quotes or latest_quotes change, in the writing transaction. */
export const QUOTES_CHANGED = 'quotes_changed';

export interface ChangeFeed {
  /**
   * Changes whenever quotes may have changed: on every notification, and whenever LISTEN is in place again after
   * its connection was lost, since notifications sent meanwhile are lost. Undefined while no LISTEN is in place
   * (before the first one, and from a lost connection until the next): nothing read then may be reused.
   */
  version(): number | undefined;
  /**
   * Which LISTEN connection is in place: changes with every one made, undefined while none is. A lost
   * connection is how this process first hears that PostgreSQL went away (the server closes every connection as
   * it shuts down), before any query fails: whatever was reused across it must be checked again (/health).
   */
  connection(): number | undefined;
  /** Stops listening and closes the connection. */
  close(): Promise<void>;
}

/**
 * Listens for committed quote changes on a connection of its own, made with the pool's settings. postgres.js's
 * own `sql.listen` re-listens once after a reconnect and gives up silently if that fails (PostgreSQL still
 * restarting), after which no change would ever be seen again. Here every lost connection is noticed, and
 * LISTEN is tried again every `retryMs` until it is back.
 */
export function watchQuoteChanges(sql: Sql, log: Logger, retryMs = 2_000): ChangeFeed {
  const { host, port, user, pass, database, ssl } = sql.options;
  let version: number | undefined;
  let connections = 0;
  let closing = false;
  let retry: NodeJS.Timeout | undefined;
  const bump = () => {
    version = (version ?? 0) + 1;
  };
  const conn = postgres({
    // The pool's parsed settings: postgres.js takes their host and port lists (several hosts) as they are,
    // although its types declare single values.
    host: host as unknown as string, port: port as unknown as number, user, pass: pass ?? undefined, database, ssl,
    max: 1, idle_timeout: 0, max_lifetime: 0, fetch_types: false, connect_timeout: 10,
    connection: { application_name: 'kasparro-etl change feed' },
    onnotice: () => {},
    // The option postgres.js's own listen() is built on; its types leave it out.
    onnotify: (channel: string) => channel === QUOTES_CHANGED && version !== undefined && bump(),
    onclose: () => {
      if (closing || version === undefined) return;
      version = undefined;
      log.warn({ retryInMs: retryMs }, 'lost the connection that listens for quote changes: /data pages are not cached until it is back');
      schedule();
    },
  } as postgres.Options<Record<string, never>>);
  const schedule = () => {
    if (!closing) retry = setTimeout(() => void listen(), retryMs).unref();
  };
  const listen = async () => {
    try {
      await conn.unsafe(`LISTEN "${QUOTES_CHANGED}"`);
      connections += 1;
      bump();
    } catch (err) {
      if (closing) return;
      log.warn({ err, retryInMs: retryMs }, 'cannot listen for quote changes: /data pages are not cached meanwhile');
      schedule();
    }
  };
  void listen();
  return {
    version: () => version,
    connection: () => (version === undefined ? undefined : connections),
    async close() {
      closing = true;
      clearTimeout(retry);
      await conn.end({ timeout: 5 });
    },
  };
}
