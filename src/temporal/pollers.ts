import type { Client } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';

/** A poller counts as a live worker when it polled this recently (an idle worker re-polls about once a minute). */
const POLLER_FRESH_MS = 2 * 60_000;

/**
 * Identities (`pid@hostname`, the SDK's default) of the workers that polled the task queue for workflow tasks
 * recently. The server lists a poller for minutes after its worker is gone: only recent polls count.
 */
export async function livePollers(client: Client, args: { namespace: string; taskQueue: string; timeoutMs: number }): Promise<string[]> {
  const { pollers } = await client.withDeadline(Date.now() + args.timeoutMs, () =>
    client.workflowService.describeTaskQueue({
      namespace: args.namespace,
      taskQueue: { name: args.taskQueue },
      taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    }),
  );
  return pollers.filter((p) => Date.now() - millis(p.lastAccessTime) < POLLER_FRESH_MS).map((p) => p.identity ?? '');
}

function millis(ts: { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined): number {
  if (!ts || ts.seconds === null || ts.seconds === undefined) return 0;
  return Number(ts.seconds.toString()) * 1000 + (ts.nanos ?? 0) / 1e6;
}
