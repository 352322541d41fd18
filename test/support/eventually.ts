/**
 * Polls `probe` until it returns something other than undefined or false (what it found, or true), for up to
 * `timeoutMs`; the error names `what`. For state that arrives asynchronously (a notification, a worker's first
 * poll, a run's progress); never a stand-in for an assertion.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  { timeoutMs = 60_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
