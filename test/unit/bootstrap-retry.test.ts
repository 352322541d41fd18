import { bootstrapRetryingTransient } from '../../src/bin/bootstrap';
import { testLogger } from '../support/logger';

/** As the Temporal client throws them: a ServiceError whose cause carries the gRPC status code. */
const grpcError = (code: number) => Object.assign(new Error('Failed to describe schedule'), { cause: Object.assign(new Error(`${code}`), { code }) });

test('When Temporal answers DEADLINE_EXCEEDED or UNAVAILABLE a few times, then the bootstrap is retried until it succeeds', async () => {
  const errors = [grpcError(4), grpcError(14)];
  let calls = 0;
  await bootstrapRetryingTransient(async () => {
    calls++;
    const err = errors.shift();
    if (err) throw err;
  }, testLogger, new AbortController().signal, { delayMs: 1 });
  expect(calls).toBe(3);
});

test('When the error is not transient, then it is thrown at once', async () => {
  let calls = 0;
  const failing = async () => {
    calls++;
    throw grpcError(7); // PERMISSION_DENIED
  };
  await expect(bootstrapRetryingTransient(failing, testLogger, new AbortController().signal, { delayMs: 1 })).rejects.toThrow('Failed to describe');
  expect(calls).toBe(1);
});

test('When Temporal stays unavailable past the limit, then the last error is thrown', async () => {
  let calls = 0;
  const failing = async () => {
    calls++;
    throw grpcError(14);
  };
  await expect(bootstrapRetryingTransient(failing, testLogger, new AbortController().signal, { delayMs: 5, giveUpAfterMs: 40 })).rejects.toThrow('Failed to describe');
  expect(calls).toBeGreaterThan(1);
});
