import express, { type Request, type RequestHandler } from 'express';
import { HttpError } from '../errors';

/** The one media type a request body may have (with parameters: `application/json; charset=utf-8`). */
const JSON_TYPE = 'application/json';

/**
 * Every POST route reads its body through these (api/route.ts): a body the server cannot read as JSON is
 * refused, where it used to be read as no body at all (for /etl/run, "every source"). 415 for a body sent as
 * anything but `Content-Type: application/json` (or without one), 400 for one that is not JSON, 413 past 64 KB
 * (api/errors.ts). No body at all, with no Content-Type or the JSON one, is left to the route: `{}`.
 */
export function jsonBody(): RequestHandler[] {
  return [express.json({ type: JSON_TYPE, limit: '64kb' }), refuseUnreadBody];
}

const refuseUnreadBody: RequestHandler = (req, _res, next) => {
  if (req.body !== undefined) return next(); // express.json read it
  const type = req.get('content-type');
  if (!hasBody(req) && (type === undefined || isJson(type))) return next();
  const given = type === undefined ? 'a body without Content-Type' : `Content-Type ${type.split(';')[0]?.trim() || type}`;
  next(new HttpError(415, 'unsupported_media_type', `${given} is not accepted: send the body as ${JSON_TYPE}`));
};

function isJson(type: string): boolean {
  return type.split(';')[0]?.trim().toLowerCase() === JSON_TYPE;
}

/** A request with a body, empty or not, says so in Content-Length or Transfer-Encoding (RFC 9112 §6.3). */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
}
