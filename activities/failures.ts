import { ApplicationFailure } from '@temporalio/activity';
import { RateLimitedError } from '../src/shared/errors';

/**
 * Runs an activity body and hands Temporal its failure in the form its retry policy understands: the error's
 * class name as the failure type, and a 429's Retry-After as the next retry delay.
 */
export async function withFailureMapping<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof RateLimitedError && err.retryAfterMs !== undefined) {
      throw ApplicationFailure.create({
        type: err.name,
        message: err.message,
        nextRetryDelay: Math.max(1, err.retryAfterMs),
      });
    }
    throw err;
  }
}
