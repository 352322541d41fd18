import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { Config } from '../config';
import type { Sql } from '../db/sql';
import type { Logger } from '../logger';
import { createSources } from '../sources';
import { installTemporalLogging } from '../temporal/logging';
import { createWorker } from '../temporal/worker';
import { temporalAddress } from './connect';

/** Composition root of a worker process: config → sources → activities → worker. */
export async function startWorker(config: Config, sql: Sql, log: Logger): Promise<Worker> {
  installTemporalLogging(log);
  const connection = await NativeConnection.connect({ address: temporalAddress(config) });
  const sources = createSources(config.sources);
  const { failAfterRecords, failMode } = config.etl;
  const activities = createActivities({
    sql,
    sources,
    log,
    batchSize: config.etl.batchSize,
    schemaChanges: config.schemaChanges,
    defaultFailure: failAfterRecords === undefined ? undefined : { afterRecords: failAfterRecords, mode: failMode },
  });
  const worker = await createWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities,
    workflowBundle: config.temporal.workflowBundle,
  });
  log.info({ taskQueue: config.temporal.taskQueue, address: temporalAddress(config) }, 'worker polling');
  return worker;
}
