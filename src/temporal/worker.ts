import { resolve } from 'node:path';
import { type NativeConnection, Worker } from '@temporalio/worker';

/**
 * Where `npm run build:workflows` writes the bundle. Workers use a bundle only when TEMPORAL_WORKFLOW_BUNDLE names
 * one (the Docker image does), so a stale bundle never runs in development.
 */
export const WORKFLOW_BUNDLE = resolve(__dirname, '..', '..', 'dist', 'workflow-bundle.js');
export const WORKFLOWS_PATH = require.resolve('../../workflows');

export async function createWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: object;
  /** A pre-built bundle; without one the worker bundles the workflows at start-up. */
  workflowBundle?: string | undefined;
}): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    // The SDK otherwise sends heartbeats at most every 0.8 x the heartbeat timeout (24 of 30 s), leaving a
    // busy event loop 6 s before Temporal would time out a live batch and start a second attempt.
    maxHeartbeatThrottleInterval: '5 seconds',
    ...(options.workflowBundle ? { workflowBundle: { codePath: options.workflowBundle } } : { workflowsPath: WORKFLOWS_PATH }),
  });
}
