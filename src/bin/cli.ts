/**
 * kasparro-etl command line. `npm run etl -- <command>`:
 *   run <source|all> [--fail-after N] [--mode once|fatal] [--wait]   start runs now (one per source at a time)
 *   worker                                                          run a worker until Ctrl-C
 *   api [--bootstrap]                                               serve the HTTP API until Ctrl-C; --bootstrap also applies
 *                                                                   the search attribute, schedules and a first run (the image)
 *   migrate                                                         apply sql/ migrations
 *   schedules                                                       create or update the Temporal Schedules
 *   healthcheck <api|worker>                                        container probe: exit 0 when healthy
 *   schema-changes [--source S] [--status open|accepted|ignored]    the upstream schema changes recorded, as a table
 *   schema-changes accept ID [--from FIELD]                         accept one: a missing field is mapped from FIELD, or
 *                                                                   else from its suggested rename
 *   schema-changes ignore ID                                        ignore one. accept/ignore exit 2 for no such change,
 *                                                                   3 when it is settled already or has nothing to map from
 *   identity review [--source S]                                    open identity review candidates, as a table
 *   identity accept|reject SOURCE ID [--note T]                     settle one: accept merges the listing's asset into the candidate
 *   identity merge FROM_ASSET INTO_ASSET [--note T]                 merge two assets, history and all
 *   identity split SOURCE ID [--note T]                             split a listing off onto an asset of its own
 *   identity override SOURCE ID ASSET [--note T]                    point a listing at an asset. identity commands exit 2 for
 *                                                                   no such asset/listing/review, 3 when refused
 *   replay <source> --quarantined | --run RUN_ID | --since TIME     re-normalize stored raw payloads under today's code and
 *          [--wait]                                                 field mapping, without fetching (refused while a run of
 *                                                                   the source is in flight)
 */
import { parseArgs } from 'node:util';
import { CancelledFailure, Client, Connection, TerminatedFailure, WorkflowFailedError } from '@temporalio/client';
import { loadConfig } from '../config';
import { migrate } from '../db/migrate';
import { createLogger } from '../logger';
import { SOURCE_NAMES } from '../sources';
import { RUN_ID_PATTERN } from '../shared/names';
import { startIngest, startReplay, type StartedRun } from '../temporal/start-run';
import type { FailureInjection, ReplaySelection } from '../shared/types';
import { applyTemporalSetup, bootstrapEtl, bootstrapInBackground } from './bootstrap';
import { connectClient, connectDatabase, temporalAddress } from './connect';
import { healthcheck } from './healthcheck';
import { identityCommand } from './identity';
import { CliError, schemaChangesCommand } from './schema-changes';
import { startApi } from './api';
import { onShutdownSignal } from './signals';
import { startWorker } from './worker';

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'fail-after': { type: 'string' }, mode: { type: 'string' }, wait: { type: 'boolean' }, bootstrap: { type: 'boolean' },
      source: { type: 'string' }, status: { type: 'string' }, from: { type: 'string' }, note: { type: 'string' },
      quarantined: { type: 'boolean' }, run: { type: 'string' }, since: { type: 'string' },
    },
  });
  const [command, target, id] = positionals;
  const config = loadConfig();
  const log = createLogger({ level: config.log.level, pretty: config.log.pretty, name: `etl-${command ?? 'cli'}` });

  switch (command) {
    case 'migrate': {
      const sql = connectDatabase(config);
      log.info({ applied: await migrate(sql) }, 'migrations applied');
      await sql.end();
      return;
    }
    case 'schedules': {
      const { client, connection } = await connectClient(config);
      await applyTemporalSetup(config, client, connection, log);
      await connection.close();
      return;
    }
    case 'worker': {
      const sql = connectDatabase(config);
      await migrate(sql);
      const worker = await startWorker(config, sql, log);
      onShutdownSignal(() => worker.shutdown());
      await worker.run();
      await sql.end();
      log.info('worker stopped');
      return;
    }
    case 'api': {
      const sql = connectDatabase(config);
      await migrate(sql);
      // Listen at once, even before Temporal answers: /health reports it until it does.
      const connection = Connection.lazy({ address: temporalAddress(config) });
      const client = new Client({ connection, namespace: config.temporal.namespace });
      const api = await startApi(config, sql, client, log);
      const stopping = new AbortController();
      const bootstrapped = values.bootstrap
        ? bootstrapInBackground(() => bootstrapEtl(config, client, connection, log), log, stopping.signal)
        : Promise.resolve();
      await new Promise<void>((resolve) => onShutdownSignal(resolve));
      stopping.abort();
      await bootstrapped;
      await api.close();
      await connection.close();
      await sql.end();
      log.info('API stopped');
      return;
    }
    case 'run': {
      const sources = target === 'all' || target === undefined ? SOURCE_NAMES : [target];
      // Without --fail-after the worker applies ETL_FAIL_AFTER_N_RECORDS, as for every other run.
      const failure = failureFrom(values['fail-after'], values.mode ?? 'once');
      const { client, connection } = await connectClient(config);
      for (const source of sources) {
        if (!SOURCE_NAMES.includes(source)) throw new UsageError(`unknown source "${source}" (known: ${SOURCE_NAMES.join(', ')}, all)`);
        const run = await startIngest(client, { source, trigger: 'cli', taskQueue: config.temporal.taskQueue, failure });
        log.info(run, run.started ? 'run started' : 'a run of this source is already in flight: returning it');
        if (values.wait) log.info({ source, result: await waitFor(client, run) }, 'run finished');
      }
      await connection.close();
      return;
    }
    case 'healthcheck': {
      if (!(await healthcheck(target ?? '', config))) process.exit(1);
      return;
    }
    case 'schema-changes': {
      const sql = connectDatabase(config);
      try {
        const { source, status, from } = values;
        await schemaChangesCommand(sql, { action: target, id, source, status, from }, (line) => console.log(line));
      } finally {
        await sql.end();
      }
      return;
    }
    case 'identity': {
      const sql = connectDatabase(config);
      try {
        await identityCommand(sql, { words: positionals.slice(1), source: values.source, note: values.note }, (line) => console.log(line));
      } finally {
        await sql.end();
      }
      return;
    }
    case 'replay': {
      if (!target || !SOURCE_NAMES.includes(target)) throw new UsageError(`replay needs a source (known: ${SOURCE_NAMES.join(', ')})`);
      const selection = replaySelectionFrom(values);
      const { client, connection } = await connectClient(config);
      try {
        const run = await startReplay(client, { source: target, trigger: 'cli', taskQueue: config.temporal.taskQueue, selection });
        if (!run.started) throw new UsageError(`a run of ${target} is in flight (${run.runId}): nothing replayed; try again when it has finished`);
        log.info({ ...run, selection }, 'replay started');
        if (values.wait) log.info({ source: target, result: await waitFor(client, run) }, 'replay finished');
      } finally {
        await connection.close();
      }
      return;
    }
    default:
      throw new UsageError(
        'usage: etl <run <source|all> [--fail-after N --mode once|fatal] [--wait] | worker | api [--bootstrap] | migrate | schedules' +
          ' | healthcheck <api|worker> | schema-changes [--source S] [--status S] | schema-changes accept ID [--from FIELD] | schema-changes ignore ID' +
          ' | identity review|accept|reject|merge|split|override … | replay <source> --quarantined|--run RUN_ID|--since TIME [--wait]>',
      );
  }
}

class UsageError extends Error {}

/**
 * A run's result, for --wait. A run that fails is one line on stderr (run id, status, the error Temporal
 * recorded) and exit code 1, like every other CLI error: its story is in /runs and the Web UI, not a stack trace.
 */
async function waitFor(client: Client, run: StartedRun): Promise<unknown> {
  try {
    return await client.workflow.getHandle(run.workflowId).result();
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const status = err.cause instanceof CancelledFailure ? 'cancelled' : err.cause instanceof TerminatedFailure ? 'terminated' : 'failed';
    throw new CliError(`run ${run.runId} of ${run.source} ${status}: ${failureMessage(err.cause)}`, 1);
  }
}

/** The innermost failure's message: the activity's own error, not Temporal's wrappers around it. */
function failureMessage(failure: unknown): string {
  let at = failure;
  while (at instanceof Error && at.cause instanceof Error) at = at.cause;
  return at instanceof Error ? at.message : String(failure);
}

function failureFrom(afterRecords: string | undefined, mode: string): FailureInjection | undefined {
  if (afterRecords === undefined) return undefined;
  const n = Number(afterRecords);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--fail-after must be a whole number, got "${afterRecords}"`);
  if (mode !== 'once' && mode !== 'fatal') throw new UsageError(`--mode must be once or fatal, got "${mode}"`);
  return { afterRecords: n, mode };
}

/** Exactly one of --quarantined, --run RUN_ID, --since TIME: a replay says what it re-reads. */
function replaySelectionFrom(values: { quarantined?: boolean | undefined; run?: string | undefined; since?: string | undefined }): ReplaySelection {
  const given = [values.quarantined ? 'quarantined' : undefined, values.run, values.since].filter((v) => v !== undefined);
  if (given.length !== 1) throw new UsageError('replay needs exactly one of --quarantined, --run RUN_ID, --since TIME');
  if (values.quarantined) return { quarantined: true };
  if (values.run !== undefined) {
    if (!RUN_ID_PATTERN.test(values.run)) throw new UsageError(`--run must be a run id (a UUID), got "${values.run}"`);
    return { run: values.run };
  }
  const since = new Date(values.since ?? '');
  if (Number.isNaN(since.getTime())) throw new UsageError(`--since must be a time (ISO 8601, e.g. 2026-12-01T00:00:00Z), got "${values.since}"`);
  return { since: since.toISOString() };
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error && (err instanceof UsageError || err instanceof CliError || err.name === 'ConfigError') ? err.message : err);
    process.exit(err instanceof CliError ? err.exitCode : 1);
  },
);
