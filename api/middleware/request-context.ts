import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../../src/logger';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

declare module 'http' {
  interface IncomingMessage {
    /** performance.now() when the request arrived. */
    receivedAt?: number;
  }
}

/** Milliseconds since the request arrived, for `api_latency_ms`. */
export function latencyMs(req: Request): number {
  return Math.round((performance.now() - (req.receivedAt ?? performance.now())) * 100) / 100;
}

/** The fields every response body starts with (the Envelope schema). */
export function envelope(req: Request): { request_id: string; api_latency_ms: number } {
  return { request_id: String(req.id), api_latency_ms: latencyMs(req) };
}

/** A page of a list paged by offset, in the envelope (the Pagination schema). */
export function pageBody<T>(req: Request, query: { limit: number; offset: number }, page: { rows: T[]; total: number }) {
  return { ...envelope(req), pagination: { limit: query.limit, offset: query.offset, total: page.total }, data: page.rows };
}

/**
 * X-Request-Id: honoured when the caller sends a sane one, generated otherwise, echoed in the response and bound
 * to every log line of the request (req.log).
 */
export function requestContext(log: Logger): RequestHandler {
  return pinoHttp({
    logger: log,
    genReqId(req, res) {
      req.receivedAt = performance.now();
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    // Our serializers take the raw objects: pino-std-serializers' copy of every header first is wasted work.
    wrapSerializers: false,
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
