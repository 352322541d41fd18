/** JSON over HTTP and bounded polling: the smoke test's only way of looking at the running system. */

export interface JsonResponse<T> {
  status: number;
  body: T;
}

/** Each request gets this long: a hung server fails the step instead of the smoke test hanging. */
const REQUEST_TIMEOUT_MS = 10_000;

export async function getJson<T>(url: string): Promise<JsonResponse<T>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return { status: res.status, body: (await res.json()) as T };
}

export async function postJson<T>(url: string, body: unknown): Promise<JsonResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Thrown by a probe to stop polling: what it saw will not get better by waiting. */
export class GiveUp extends Error {}

/**
 * Polls `probe` until it returns a value. A probe that throws (connection refused while a server starts) is
 * polled again (unless it throws GiveUp); on timeout the error names what was awaited and the last thing the probe said.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; lastSeen?: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      const seen = options.lastSeen?.() || lastError;
      throw new Error(`${what}: not within ${options.timeoutMs / 1000}s${seen ? ` (last: ${seen})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
  }
}
