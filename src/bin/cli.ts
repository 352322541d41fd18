/**
 * kasparro-etl command line. `npm run etl -- <command>`:
 *   run <source|all> [--fail-after N] [--mode once|fatal] [--wait]   start runs now (one per source at a time)
 *   worker                                                          run a worker until Ctrl-C
 *   api [--bootstrap]                                               serve the HTTP API until Ctrl-C; --bootstrap also applies
 *                                                                   the search attribute, schedules and a first run (the image)
 *   migrate                                                         apply sql/ migrations
 *   schedules                                                       create or update the Temporal Schedules
 *   healthcheck <api|worker>                                        container probe: exit 0 when healthy
 */
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config';
import { migrate } from '../db/migrate';
import { createLogger } from '../logger';
import { SOURCE_NAMES } from '../sources';
import { startIngest } from '../temporal/start-run';
import type { FailureInjection } from '../shared/types';
import { applyTemporalSetup, bootstrapEtl, bootstrapInBackground } from './bootstrap';
import { connectClient, connectDatabase, temporalAddress } from './connect';
import { healthcheck } from './healthcheck';
import { startApi } from './api';
import { onShutdownSignal } from './signals';
import { startWorker } from './worker';

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'fail-after': { type: 'string' }, mode: { type: 'string' }, wait: { type: 'boolean' }, bootstrap: { type: 'boolean' } },
  });
  const [command, target] = positionals;
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
        if (values.wait) log.info({ source, result: await client.workflow.getHandle(run.workflowId).result() }, 'run finished');
      }
      await connection.close();
      return;
    }
    case 'healthcheck': {
      if (!(await healthcheck(target ?? '', config))) process.exit(1);
      return;
    }
    default:
      throw new UsageError(`usage: etl <run <source|all> [--fail-after N --mode once|fatal] [--wait] | worker | api [--bootstrap] | migrate | schedules | healthcheck <api|worker>>`);
  }
}

class UsageError extends Error {}

function failureFrom(afterRecords: string | undefined, mode: string): FailureInjection | undefined {
  if (afterRecords === undefined) return undefined;
  const n = Number(afterRecords);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--fail-after must be a whole number, got "${afterRecords}"`);
  if (mode !== 'once' && mode !== 'fatal') throw new UsageError(`--mode must be once or fatal, got "${mode}"`);
  return { afterRecords: n, mode };
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error && (err instanceof UsageError || err.name === 'ConfigError') ? err.message : err);
    process.exit(1);
  },
);
