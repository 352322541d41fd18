/**
 * Named failures. An error's `name` becomes the Temporal failure `type`, which is what retry policies match,
 * so each class pins its name as a literal (minifiers would rename the class). Workflow-safe.
 */
abstract class NamedError extends Error {
  abstract override readonly name: string;
  /** Whether Temporal should try the activity again. */
  abstract readonly retryable: boolean;
}

/** The upstream answered 5xx, timed out or cut the connection: try again with backoff. */
export class UpstreamUnavailableError extends NamedError {
  override readonly name = 'UpstreamUnavailableError';
  readonly retryable = true;
}

/** The upstream answered 429. `retryAfterMs` comes from Retry-After when it sent one. */
export class RateLimitedError extends NamedError {
  override readonly name = 'RateLimitedError';
  readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The upstream refused the request itself (401, 403, 404...): retrying cannot help. */
export class UpstreamRejectedError extends NamedError {
  override readonly name = 'UpstreamRejectedError';
  readonly retryable = false;
}

/** A whole response or file is not what the source expects (not an array, no header...). */
export class InvalidPayloadError extends NamedError {
  override readonly name = 'InvalidPayloadError';
  readonly retryable = false;
}

export class UnknownSourceError extends NamedError {
  override readonly name = 'UnknownSourceError';
  readonly retryable = false;
}

/** Failure injection, mode `once`: Temporal retries the activity and the run goes on from its checkpoint. */
export class InjectedFailure extends NamedError {
  override readonly name = 'InjectedFailure';
  readonly retryable = true;
}

/** Failure injection, mode `fatal`: the run fails; the next run or a reset resumes from the checkpoint. */
export class InjectedFatalFailure extends NamedError {
  override readonly name = 'InjectedFatalFailure';
  readonly retryable = false;
}

/**
 * Policy `freeze`: the upstream changed shape and nothing of the batch was loaded. Retrying reads the same shape;
 * an operator settles the change (accept, map or ignore), then resets the run or starts the next one.
 */
export class SchemaChangeFrozenError extends NamedError {
  override readonly name = 'SchemaChangeFrozenError';
  readonly retryable = false;
}

/** A replay asked for what cannot be replayed (a run of another source, or no such run). */
export class InvalidReplayError extends NamedError {
  override readonly name = 'InvalidReplayError';
  readonly retryable = false;
}

export const NON_RETRYABLE_ERROR_TYPES = [
  'SchemaChangeFrozenError',
  'InvalidReplayError',
  'UpstreamRejectedError',
  'InvalidPayloadError',
  'UnknownSourceError',
  'InjectedFatalFailure',
  'ConfigError',
] as const;
