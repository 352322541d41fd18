import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { createSources } from '../sources';
import { applySchedules } from '../temporal/schedules';
import { ensureSearchAttributes } from '../temporal/search-attributes';
import { startIngest } from '../temporal/start-run';

/**
 * What a deployment needs in Temporal before anything happens on its own: the search attribute the Web UI
 * filters on, the schedules, and a first run of every source. Every step is idempotent (a run in flight is
 * returned, not duplicated), so each start of `npm start` or of the API image runs it again.
 */
export async function bootstrapEtl(config: Config, client: Client, connection: Connection, log: Logger): Promise<void> {
  await applyTemporalSetup(config, client, connection, log);
  for (const source of createSources(config.sources).keys()) {
    const run = await startIngest(client, { source, trigger: 'cli', taskQueue: config.temporal.taskQueue });
    log.info(run, run.started ? 'first run started' : 'a run is already in flight');
  }
}

/** The search attribute and the schedules (`etl schedules`, and the first part of bootstrapEtl). */
export async function applyTemporalSetup(config: Config, client: Client, connection: Connection, log: Logger): Promise<void> {
  await ensureSearchAttributes(connection, config.temporal.namespace);
  log.info({ schedules: await applySchedules(client, createSources(config.sources), config.temporal.taskQueue) }, 'schedules applied');
}

/**
 * bootstrapEtl until it succeeds, for an API that must listen at once even while Temporal is still coming up
 * (docker compose, Kubernetes): meanwhile /health reports Temporal or the worker down, and each failed attempt
 * is logged as a warning with its error. Stops trying when `signal` aborts.
 */
export async function bootstrapInBackground(
  run: () => Promise<void>,
  log: Logger,
  signal: AbortSignal,
  delays = { firstMs: 1_000, maxMs: 30_000 },
): Promise<void> {
  if (signal.aborted) return;
  await retrying(run, log, signal, { ...delays, retry: () => true }).catch(() => undefined); // only when aborted
}

/** gRPC codes a Temporal server coming up answers with: DEADLINE_EXCEEDED, UNAVAILABLE. */
const TRANSIENT_GRPC_CODES = new Set([4, 14]);

function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code ?? (err as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'number' && TRANSIENT_GRPC_CODES.has(code);
}

/**
 * bootstrapEtl for `npm start`, which is up only once it is done. A dev server just started again on its saved
 * state can answer a schedule's describe with DEADLINE_EXCEEDED while its own system workers come up (seen in
 * the smoke test's restart, which then exited): transient gRPC errors are retried, every `delayMs`, for up to
 * `giveUpAfterMs`. Any other error, or a transient one past that, is thrown.
 */
export async function bootstrapRetryingTransient(
  run: () => Promise<void>,
  log: Logger,
  signal: AbortSignal,
  { giveUpAfterMs = 60_000, delayMs = 1_000 } = {},
): Promise<void> {
  await retrying(run, log, signal, { firstMs: delayMs, maxMs: delayMs, giveUpAfterMs, retry: isTransient });
}

/**
 * The one retry loop of both: `run` again after each error `retry` accepts, the delay doubling from firstMs to
 * maxMs, until it succeeds (logged), `signal` aborts, or `giveUpAfterMs` would pass; then the last error is thrown.
 */
async function retrying(
  run: () => Promise<void>,
  log: Logger,
  signal: AbortSignal,
  options: { firstMs: number; maxMs: number; giveUpAfterMs?: number; retry(err: unknown): boolean },
): Promise<void> {
  const deadline = Date.now() + (options.giveUpAfterMs ?? Infinity);
  for (let delay = options.firstMs; ; delay = Math.min(delay * 2, options.maxMs)) {
    try {
      await run();
      log.info('bootstrap done: search attribute, schedules and first runs are in place');
      return;
    } catch (err) {
      if (!options.retry(err) || Date.now() + delay > deadline || signal.aborted) throw err;
      log.warn({ err, retryInMs: delay }, 'bootstrap failed; retrying');
      await sleep(delay, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) throw err;
    }
  }
}
