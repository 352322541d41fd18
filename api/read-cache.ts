/**
 * Short-lived memo for reads: concurrent requests for the same key share one query, and its answer serves until
 * `ttlMs` pass or, when a `version` is given, until that version changes (a committed write); a new version
 * drops every entry, since all of them are then stale. An undefined version means changes cannot be seen yet,
 * so nothing is reused. A failed query is forgotten at once. ttlMs 0 disables it.
 *
 * An entry past `ttlMs` with no change announced keeps answering while one refresh runs in the background,
 * until it is twice `ttlMs` old; after that, requests wait for the refresh. Without this, every expiry made
 * the requests of that moment queue behind one query: the open-loop p99 of every cached endpoint was the
 * cost of one recompute. No answer is ever older than 2 × ttlMs, and none outlives a change it was told of.
 */
export function readCache<T>(
  ttlMs: number,
  options: { version?: () => number | undefined; maxKeys?: number } = {},
): (key: string, compute: () => Promise<T>) => Promise<T> {
  const { version = () => 0, maxKeys = 1_000 } = options;
  const entries = new Map<string, Entry<T>>();
  let entriesVersion: number | undefined;

  /** Starts computing `key` and files the entry; a failure removes it, unless it was replaced meanwhile. */
  const start = (key: string, compute: () => Promise<T>, now: number): Entry<T> => {
    const entry: Entry<T> = { value: compute(), at: now, settled: false };
    entry.value.then(
      () => (entry.settled = true),
      () => entries.get(key) === entry && entries.delete(key),
    );
    return entry;
  };

  return (key, compute) => {
    if (ttlMs <= 0) return compute();
    const now = Date.now();
    const current = version();
    if (current === undefined || current !== entriesVersion) {
      entries.clear();
      entriesVersion = current;
    }
    const hit = current === undefined ? undefined : entries.get(key);
    // Fresh, or still being computed: one query at a time per key, however slow it is.
    if (hit && (now - hit.at < ttlMs || !hit.settled)) return hit.value;
    if (hit) {
      if (!hit.refresh) {
        const refresh = start(key, compute, now);
        hit.refresh = refresh.value;
        // Settled and still current: the refreshed entry takes over (a change meanwhile dropped `hit`).
        refresh.value.then(
          () => entries.get(key) === hit && entries.set(key, refresh),
          () => entries.get(key) === hit && entries.delete(key),
        );
      }
      return now - hit.at < 2 * ttlMs ? hit.value : hit.refresh;
    }
    if (entries.size >= maxKeys) entries.clear(); // many distinct keys: start over rather than grow
    const entry = start(key, compute, now);
    if (current !== undefined) entries.set(key, entry);
    return entry.value;
  };
}

interface Entry<T> {
  value: Promise<T>;
  /** When its query started: its answer describes the data as of then at the earliest. */
  at: number;
  settled: boolean;
  /** The query replacing it, once it has expired. */
  refresh?: Promise<T>;
}
