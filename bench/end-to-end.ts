import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type Activities } from '../activities';
import type { Sql } from '../src/db/sql';
import type { Logger } from '../src/logger';
import type { Sources } from '../src/sources';
import type { Source } from '../src/sources/types';
import type { IngestResult } from '../src/shared/types';
import { startIngest } from '../src/temporal/start-run';
import { PhaseTimes, performance, seconds } from './timing';

export interface EndToEndResult {
  counts: IngestResult['counts'];
  batches: number;
  /** From the start request to the workflow's result: HTTP, Temporal, every activity, every transaction. */
  seconds: number;
  /** Time inside each activity and inside the sources' fetchPage (which runs within fetchBatch). */
  phases: PhaseTimes;
  /** CPU seconds this process (bench + worker) used during the run. */
  cpuSeconds: number;
}

let queues = 0;

/**
 * One real run of one source: a worker in this process (the same activities the worker entry point builds,
 * timed from outside), the workflow started as the CLI starts it, and the clock stopped when its result arrives.
 */
export async function measureEndToEnd(options: {
  env: TestWorkflowEnvironment;
  bundle: WorkflowBundleWithSourceMap;
  sql: Sql;
  sources: Sources;
  source: string;
  batchSize: number;
  log: Logger;
}): Promise<EndToEndResult> {
  const phases = new PhaseTimes();
  const activities = timedActivities(
    createActivities({ sql: options.sql, sources: timedSources(options.sources, phases), log: options.log, batchSize: options.batchSize }),
    phases,
  );
  const taskQueue = `bench-${process.pid}-${++queues}`;
  const worker = await Worker.create({
    connection: options.env.nativeConnection,
    namespace: options.env.namespace ?? 'default',
    taskQueue,
    workflowBundle: options.bundle,
    activities,
  });
  const client = options.env.client;
  const cpuBefore = process.cpuUsage();
  const { result, elapsed } = await worker.runUntil(async () => {
    const start = performance.now();
    const run = await startIngest(client, { source: options.source, trigger: 'cli', taskQueue });
    const result = (await client.workflow.getHandle(run.workflowId).result()) as IngestResult;
    return { result, elapsed: seconds(start) };
  });
  const cpu = process.cpuUsage(cpuBefore);
  return { counts: result.counts, batches: result.batches, seconds: elapsed, phases, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function timedActivities(activities: Activities, phases: PhaseTimes): Activities {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      (...args: unknown[]) => phases.time(name, () => (fn as (...a: unknown[]) => Promise<unknown>)(...args)),
    ]),
  ) as Activities;
}

function timedSources(sources: Sources, phases: PhaseTimes): Sources {
  return new Map(
    [...sources].map(([name, source]): [string, Source] => [
      name,
      { ...source, fetchPage: (cursor, context) => phases.time('fetchPage', () => source.fetchPage(cursor, context)) },
    ]),
  );
}
