import { ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { ScheduleNotFoundError } from '@temporalio/client';
import type { Sources } from '../sources';
import { SCHEDULED_LAUNCH_WORKFLOW_TYPE, scheduleIdFor } from '../shared/names';
import { runSearchAttributes } from '../shared/search-attributes';

/**
 * One Temporal Schedule per source, created or brought up to date at start-up: safe to run on every boot and
 * from every replica. Overlap SKIP: a tick while the previous run is in flight is dropped, not queued.
 */
export async function applySchedules(client: Client, sources: Sources, taskQueue: string): Promise<string[]> {
  const applied: string[] = [];
  for (const source of sources.values()) {
    const scheduleId = scheduleIdFor(source.name);
    const options: ScheduleOptions = {
      scheduleId,
      spec: { intervals: [{ every: source.scheduleIntervalMs }] },
      action: {
        type: 'startWorkflow',
        workflowType: SCHEDULED_LAUNCH_WORKFLOW_TYPE,
        workflowId: `etl-launch-${source.name}`,
        taskQueue,
        args: [source.name],
        typedSearchAttributes: runSearchAttributes(source.name),
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    };
    const handle = client.schedule.getHandle(scheduleId);
    try {
      await handle.update((previous) => ({ ...previous, spec: options.spec, action: options.action, policies: { ...previous.policies, ...options.policies } }));
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      await client.schedule.create(options);
    }
    applied.push(scheduleId);
  }
  return applied;
}
