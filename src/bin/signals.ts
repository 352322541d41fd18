/**
 * Ctrl-C / SIGTERM handling for long-running entry points. Temporal's runtime is told not to react to signals
 * (see installTemporalLogging) so that one sequence, ours, stops the worker first and then what it depends on.
 * A second signal, or a shutdown that takes longer than `graceMs`, exits at once.
 */
export function onShutdownSignal(shutdown: () => void, graceMs = 60_000): void {
  let requested = false;
  const handler = (signal: NodeJS.Signals) => {
    if (requested) process.exit(130);
    requested = true;
    console.error(`${signal} received: shutting down (again to force)`);
    // The worker's native side lets go of the event loop while it drains; this timer holds the process
    // until the shutdown sequence has run, and ends it if the sequence hangs.
    setTimeout(() => process.exit(1), graceMs);
    shutdown();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
