/**
 * Spaces requests to one upstream so a worker never exceeds the plan's requests per minute. Callers queue in
 * order; the limiter is per process, so N workers share the upstream quota only if each is given 1/N of it.
 */
export interface RateLimiter {
  acquire(signal?: AbortSignal): Promise<void>;
}

export function createRateLimiter(perMinute: number, now: () => number = Date.now): RateLimiter {
  const spacingMs = 60_000 / perMinute;
  let nextSlot = 0;
  return {
    async acquire(signal) {
      const at = Math.max(now(), nextSlot);
      nextSlot = at + spacingMs;
      const wait = at - now();
      if (wait > 0) await sleep(wait, signal);
    },
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
