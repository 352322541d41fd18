/**
 * Short-lived memo for reads: concurrent requests for the same key share one query, and its answer serves until
 * `ttlMs` pass or, when a `version` is given, until that version changes (a committed write); a new version
 * drops every entry, since all of them are then stale. An undefined version means changes cannot be seen yet,
 * so nothing is reused. A failed query is forgotten at once. ttlMs 0 disables it.
 */
export function readCache<T>(
  ttlMs: number,
  options: { version?: () => number | undefined; maxKeys?: number } = {},
): (key: string, compute: () => Promise<T>) => Promise<T> {
  const { version = () => 0, maxKeys = 1_000 } = options;
  const entries = new Map<string, { value: Promise<T>; at: number }>();
  let entriesVersion: number | undefined;
  return (key, compute) => {
    if (ttlMs <= 0) return compute();
    const now = Date.now();
    const current = version();
    if (current === undefined || current !== entriesVersion) {
      entries.clear();
      entriesVersion = current;
    }
    const hit = entries.get(key);
    if (hit && now - hit.at < ttlMs && current !== undefined) return hit.value;
    if (entries.size >= maxKeys) entries.clear(); // many distinct keys: start over rather than grow
    const entry = { value: compute(), at: now };
    entries.set(key, entry);
    entry.value.catch(() => {
      if (entries.get(key) === entry) entries.delete(key);
    });
    return entry.value;
  };
}
