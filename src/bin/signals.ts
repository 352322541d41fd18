/** Signals closer together than this are one Ctrl-C (the terminal's, npm's and tsx's copies of it). */
export const ECHO_MS = 1_000;

/**
 * Ctrl-C / SIGTERM handling for long-running entry points. Temporal's runtime is told not to react to signals
 * (see installTemporalLogging) so that one sequence, ours, stops the worker first and then what it depends on.
 * A second signal, later than ECHO_MS (a copy of the first one arrives within it: under `npm run`, one Ctrl-C
 * reached the worker twice and killed it mid-drain), or a shutdown that takes longer than `graceMs`, exits at once.
 */
export function onShutdownSignal(shutdown: () => void, graceMs = 60_000): void {
  let requestedAt: number | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (requestedAt !== undefined) {
      if (Date.now() - requestedAt < ECHO_MS) return;
      process.exit(130);
    }
    requestedAt = Date.now();
    console.error(`${signal} received: shutting down (again to force)`);
    // The worker's native side lets go of the event loop while it drains; this timer holds the process
    // until the shutdown sequence has run, and ends it if the sequence hangs.
    setTimeout(() => process.exit(1), graceMs);
    shutdown();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
