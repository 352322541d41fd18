import { Context } from '@temporalio/activity';

/** The activity context, or undefined when the function is called outside an activity (benchmarks, tests). */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * Runs `work` while heartbeating every `everyMs`, so Temporal notices a worker that died (SIGKILL, a lost node)
 * within the heartbeat timeout and retries elsewhere, instead of waiting out the start-to-close timeout. Waits
 * that make no progress of their own (Retry-After, a long transaction) keep the activity alive the same way.
 */
export async function heartbeating<T>(work: () => Promise<T>, everyMs = 5_000): Promise<T> {
  const context = activityContext();
  if (!context) return work();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
