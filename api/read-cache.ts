/**
 * Short-lived memo for expensive reads (counts over history, statistics): concurrent requests for the same key
 * share one query, and its answer serves for `ttlMs`. A failed query is forgotten at once. ttlMs 0 disables it.
 */
export function readCache<T>(ttlMs: number, maxKeys = 1_000): (key: string, compute: () => Promise<T>) => Promise<T> {
  const entries = new Map<string, { value: Promise<T>; at: number }>();
  return (key, compute) => {
    if (ttlMs <= 0) return compute();
    const now = Date.now();
    const hit = entries.get(key);
    if (hit && now - hit.at < ttlMs) return hit.value;
    if (entries.size >= maxKeys) entries.clear(); // many distinct keys: start over rather than grow
    const value = compute();
    entries.set(key, { value, at: now });
    value.catch(() => entries.delete(key));
    return value;
  };
}
