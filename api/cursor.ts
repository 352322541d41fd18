import type { Keyset } from '../src/db/quote-queries';
import { badRequest } from './errors';

/** Opaque page cursors: the keyset of the last row served, base64url-encoded JSON. */
export function encodeCursor(keyset: Keyset): string {
  return Buffer.from(JSON.stringify(keyset)).toString('base64url');
}

export function decodeCursor(cursor: string): Keyset {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Keyset;
    if (typeof value?.source === 'string' && typeof value.sourceAssetId === 'string' && typeof value.observedAt === 'string'
      && (typeof value.value === 'string' || typeof value.value === 'number')) {
      return value;
    }
  } catch {
    // fall through
  }
  throw badRequest('cursor', 'not a cursor this API issued');
}
