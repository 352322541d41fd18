/**
 * Short-lived memo for reads: concurrent requests for the same key share one query, and its answer serves until
 * `ttlMs` pass or, when a `version` is given, until that version changes (a committed write); an undefined version
 * means changes cannot be seen yet, so nothing is reused. A failed query is forgotten at once. ttlMs 0 disables it.
 */
export function readCache<T>(
  ttlMs: number,
  options: { version?: () => number | undefined; maxKeys?: number } = {},
): (key: string, compute: () => Promise<T>) => Promise<T> {
  const { version = () => 0, maxKeys = 1_000 } = options;
  const entries = new Map<string, { value: Promise<T>; at: number; version: number | undefined }>();
  return (key, compute) => {
    if (ttlMs <= 0) return compute();
    const now = Date.now();
    const current = version();
    const hit = entries.get(key);
    if (hit && now - hit.at < ttlMs && current !== undefined && hit.version === current) return hit.value;
    if (entries.size >= maxKeys) entries.clear(); // many distinct keys: start over rather than grow
    const value = compute();
    entries.set(key, { value, at: now, version: current });
    value.catch(() => entries.delete(key));
    return value;
  };
}
