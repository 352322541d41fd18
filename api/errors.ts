import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { SettlementConflict } from '../src/db/field-mappings';
import { z } from './zod';

export const ErrorBody = z
  .object({
    error: z.string().openapi({ example: 'bad_request' }),
    message: z.string(),
    request_id: z.string(),
    details: z.array(z.object({ field: z.string(), reason: z.string() })).optional(),
  })
  .openapi('Error');
export type ErrorBody = z.infer<typeof ErrorBody>;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorBody['details'],
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);

/** A 400 about one input field, shaped like zod's: every 400 names its field in `details`. */
export const badRequest = (field: string, reason: string) =>
  new HttpError(400, 'bad_request', `${field}: ${reason}`, [{ field, reason }]);

/** Unknown routes get a JSON 404 like every other error. */
export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

/**
 * The one place errors become HTTP: bad input → 400 naming each field, known HTTP errors as they are, a schema
 * change that cannot be settled as asked → 409, the database or Temporal unreachable → 503, anything else → 500. No stack trace ever leaves the process.
 */
export const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  const request_id = String(req.id ?? '');
  let status = 500;
  let body: ErrorBody = { error: 'internal', message: 'internal error', request_id };
  if (err instanceof ZodError) {
    status = 400;
    body = {
      error: 'bad_request',
      message: 'invalid request',
      request_id,
      details: err.issues.map((i) => ({ field: i.path.join('.') || '(body)', reason: i.message })),
    };
  } else if (err instanceof HttpError) {
    status = err.status;
    body = { error: err.code, message: err.message, request_id, ...(err.details ? { details: err.details } : {}) };
  } else if (err instanceof SettlementConflict) {
    status = 409;
    body = { error: 'conflict', message: err.message, request_id };
  } else if (isBadJson(err)) {
    status = 400;
    body = { error: 'bad_request', message: 'request body is not valid JSON', request_id };
  } else if (isUnavailable(err)) {
    status = 503;
    body = { error: 'unavailable', message: 'a backing service is unavailable, try again shortly', request_id };
  }
  if (status >= 500) req.log?.error({ err }, 'request failed');
  res.status(status).json(body);
};

function isBadJson(err: unknown): boolean {
  return err instanceof SyntaxError && (err as { type?: string }).type === 'entity.parse.failed';
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', '57P01', '57P03']);

function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  // gRPC UNAVAILABLE (14) from the Temporal client, or a request cut short by our own deadline.
  return (err as { code?: unknown })?.code === 14 || (err as Error)?.name === 'ServiceUnavailableError';
}
