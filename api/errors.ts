import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { ConflictError } from '../src/db/conflict';
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

/** A method the path does not declare; `Allow` lists the ones it does (api/route.ts sets it). */
export const methodNotAllowed = (method: string, path: string, allowed: string) =>
  new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${path}; allowed: ${allowed}`);

/** Unknown routes get a JSON 404 like every other error. */
export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

/**
 * The one place errors become HTTP: bad input → 400 naming each field, known HTTP errors as they are, a request
 * the data as it stands refuses (src/db/conflict.ts) → 409, the database or Temporal unreachable → 503, anything else → 500. No stack trace ever leaves the process.
 * Express's and body-parser's own client errors keep their status (a path that does not decode, a body too large
 * or in a charset it cannot read): they are the client's, not a 500.
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
  } else if (err instanceof ConflictError) {
    status = 409;
    body = { error: 'conflict', message: err.message, request_id };
  } else if (isBadJson(err)) {
    status = 400;
    body = { error: 'bad_request', message: 'request body is not valid JSON', request_id, details: [{ field: '(body)', reason: 'not valid JSON' }] };
  } else if (err instanceof URIError && clientStatus(err) === 400) {
    // The router could not percent-decode a path parameter (`/assets/%FF`).
    status = 400;
    body = { error: 'bad_request', message: 'the path is not valid percent-encoded UTF-8', request_id, details: [{ field: '(path)', reason: 'not valid percent-encoded UTF-8' }] };
  } else if (clientStatus(err)) {
    // What body-parser refuses before any route sees the request: too large (413), a charset or content encoding
    // it cannot read (415), a body cut short (400). Its messages are written for clients (`expose`).
    status = clientStatus(err) as number;
    const message = (err as Error).message;
    body = { error: errorCode(status), message, request_id, ...(status === 400 ? { details: [{ field: '(body)', reason: message }] } : {}) };
  } else if (isUnavailable(err)) {
    status = 503;
    body = { error: 'unavailable', message: 'a backing service is unavailable, try again shortly', request_id };
  }
  if (status >= 500) req.log?.error({ err }, 'request failed');
  res.status(status).json(body);
};

/** The 4xx status an error of Express or body-parser carries, when it is one of theirs. */
function clientStatus(err: unknown): number | undefined {
  const { status, expose } = (err ?? {}) as { status?: unknown; expose?: unknown };
  const fromExpress = expose === true || err instanceof URIError;
  return fromExpress && typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/** `payload_too_large` for 413: the reason phrase as an error code. */
function errorCode(status: number): string {
  return (STATUS_CODES[status] ?? 'error').toLowerCase().replace(/\W+/g, '_');
}

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
