import ky, { HTTPError, TimeoutError } from 'ky';
import {
  InvalidPayloadError,
  RateLimitedError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from '../shared/errors';
import { createRateLimiter } from './rate-limiter';

export interface HttpClientOptions {
  /** For error messages: which upstream failed. */
  name: string;
  baseUrl: string;
  headers?: Record<string, string>;
  ratePerMinute: number;
  timeoutMs?: number;
}

export interface HttpClient {
  getJson(path: string, searchParams?: Record<string, string | number>, signal?: AbortSignal): Promise<unknown>;
}

/**
 * JSON over HTTP with the failure classes the workflow's retry policy understands. ky does no retries of its
 * own: Temporal owns retries, so they are durable and visible in the run's history.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const limiter = createRateLimiter(options.ratePerMinute);
  const api = ky.create({
    prefixUrl: options.baseUrl,
    headers: options.headers,
    timeout: options.timeoutMs ?? 30_000,
    retry: 0,
  });

  return {
    async getJson(path, searchParams, signal) {
      await limiter.acquire(signal);
      const where = `${options.name} GET /${path}`;
      let body: string;
      try {
        body = await api.get(path, { searchParams, signal }).text();
      } catch (err) {
        throw classify(err, where, options.baseUrl);
      }
      try {
        return JSON.parse(body) as unknown;
      } catch {
        // A body cut short is a transfer fault more often than a contract change: retry it.
        throw new UpstreamUnavailableError(`${where}: response is not valid JSON (${body.length} bytes, truncated?)`);
      }
    },
  };
}

function classify(err: unknown, where: string, baseUrl: string): Error {
  if (err instanceof HTTPError) {
    const status = err.response.status;
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(err.response.headers.get('retry-after'));
      const hint = retryAfterMs === undefined ? 'no Retry-After' : `Retry-After ${retryAfterMs / 1000}s`;
      return new RateLimitedError(`${where}: 429 Too Many Requests (${hint})`, retryAfterMs);
    }
    if (status >= 500 || status === 408) return new UpstreamUnavailableError(`${where}: HTTP ${status}`);
    return new UpstreamRejectedError(`${where}: HTTP ${status} ${err.response.statusText}`.trim());
  }
  if (err instanceof TimeoutError) return new UpstreamUnavailableError(`${where}: timed out`);
  if (err instanceof Error && err.name === 'AbortError') return err;
  // No answer at all (DNS, refused, reset): fetch says only "fetch failed"; the cause names what and where.
  // (Read by shape: undici's errors come from another realm under jest, where instanceof Error is false.)
  const { message = String(err), cause } = (err ?? {}) as { message?: string; cause?: { message?: string } };
  const because = cause?.message ? ` (${cause.message})` : '';
  return new UpstreamUnavailableError(`${where} at ${baseUrl}: ${message}${because}`);
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function expectArray(payload: unknown, where: string): unknown[] {
  if (!Array.isArray(payload)) throw new InvalidPayloadError(`${where}: expected a JSON array, got ${typeof payload}`);
  return payload;
}
