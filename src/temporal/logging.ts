import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogEntry } from '@temporalio/worker';
import type { Logger } from '../logger';

let installed = false;

/**
 * Routes the worker's own logs (workflow and activity lifecycle, Rust core warnings) into our pino logger, so a
 * terminal or a log collector sees one stream. Must run before the first worker connection is made.
 */
export function installTemporalLogging(log: Logger): void {
  if (installed) return;
  installed = true;
  const temporalLog = log.child({ component: 'temporal' });
  Runtime.install({
    logger: new DefaultLogger('WARN', ({ level, message, meta }: LogEntry) => {
      const { error, ...rest } = meta ?? {};
      const method = level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
      temporalLog[method]({ ...rest, ...(error ? { err: error } : {}) }, message);
    }),
    telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) } },
    // Entry points own signal handling (src/bin/signals.ts), so shutdown happens in one known order.
    shutdownSignals: [],
  });
}
