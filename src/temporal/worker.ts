import { resolve } from 'node:path';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';

/** Workflows bundled at build time (`npm run build:workflows`); without it the worker bundles at start-up. */
export const WORKFLOW_BUNDLE = resolve(__dirname, '..', '..', 'dist', 'workflow-bundle.js');
export const WORKFLOWS_PATH = require.resolve('../../workflows');

export async function createWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: object;
  /** A pre-built bundle; without one the worker bundles the workflows at start-up. */
  workflowBundle?: string | undefined;
  identity?: string;
  tuning?: Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxCachedWorkflows'>;
}): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle ? { workflowBundle: { codePath: options.workflowBundle } } : { workflowsPath: WORKFLOWS_PATH }),
    ...(options.identity ? { identity: options.identity } : {}),
    ...options.tuning,
  });
}
