import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { HttpError } from '../errors';

/**
 * Checks X-API-Key against the configured key in constant time (both sides hashed first, so neither the
 * content nor the length of the key leaks through timing). Without a configured key, every caller passes.
 */
export function requireApiKey(req: Request, apiKey: string | undefined): void {
  if (!apiKey) return;
  const given = req.get('x-api-key') ?? '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  if (!timingSafeEqual(digest(given), digest(apiKey))) {
    throw new HttpError(401, 'unauthorized', 'a valid X-API-Key header is required');
  }
}
