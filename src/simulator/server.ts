/**
 * An HTTP stand-in for CoinGecko and CoinPaprika, serving the deterministic market from ./market.ts, with
 * switchable faults (rate limits, 500s, slowness, truncated bodies, schema drift) for tests, benchmarks and an
 * offline demo. node:http only.
 *
 * Data routes:  GET /api/v3/coins/markets (CoinGecko), GET /v1/tickers (CoinPaprika).
 * Admin routes: GET /__sim/health, GET|POST|DELETE /__sim/faults, POST /__sim/tick[?n=].
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMarket, type Market, type MarketView } from './market';

export type SourceName = 'coingecko' | 'coinpaprika';

export const FAULT_KINDS = ['rate-limit', 'server-error', 'slow', 'truncated', 'rename-field', 'missing-field'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  kind: FaultKind;
  /** Which source's data requests it hits; both when omitted. */
  source?: SourceName;
  /** How many upcoming matching requests it applies to (default 1); Infinity or -1 = until cleared. */
  times?: number;
  /** rate-limit: sent as Retry-After; no header when omitted. */
  retryAfterSeconds?: number;
  /** slow: how long to wait before answering normally (default 1000). */
  delayMs?: number;
  /**
   * rename-field / missing-field: a field of each record, e.g. 'current_price' or 'symbol'. A dotted path
   * ('quotes.USD.price') reaches into nested objects. Renaming turns the last segment into `${name}_renamed`.
   */
  field?: string;
}

export interface SimulatorOptions {
  coins?: number;
  seed?: number;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
}

export interface RequestLog {
  /** Data requests (admin routes excluded) to one path, e.g. '/v1/tickers', or to all paths. */
  count(path?: string): number;
  reset(): void;
}

export interface Simulator {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly market: Market;
  /** Headers of the last data request, e.g. to check which CoinGecko key header arrived. */
  readonly lastRequestHeaders: IncomingHttpHeaders | undefined;
  readonly requests: RequestLog;
  tick(n?: number): void;
  /** Queues a fault; several may be queued, and each request takes the first one that matches its source. */
  setFault(fault: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

/** A fault that cannot be applied: a bad argument to setFault(), or a 400 from POST /__sim/faults. */
export class FaultError extends Error {
  override name = 'FaultError';
}

const GECKO_MAX_PER_PAGE = 250;
const GECKO_DEFAULT_PER_PAGE = 100;
const DEFAULT_SLOW_MS = 1000;
/** Big enough that 100k tickers are a few hundred writes, small enough to never hold much in memory. */
const STREAM_CHUNK_CHARS = 64 * 1024;
const MAX_ADMIN_BODY_BYTES = 64 * 1024;
const JSON_TYPE = 'application/json; charset=utf-8';
/** Bound once: under jest's vm context each global lookup is slow, and this runs once per ticker. */
const stringify = JSON.stringify;

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const market = createMarket({ coins: options.coins, seed: options.seed });
  const faults = new FaultQueue();
  const requests = new RequestCounter();
  // Aborted on close() so a pending 'slow' response does not keep the process alive.
  const closing = new AbortController();
  const context: Context = { market, faults, requests, closing: closing.signal };

  const server = createServer((req, res) => {
    handle(req, res, context).catch((error: unknown) => failRequest(res, error));
  });
  await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    market,
    get lastRequestHeaders() {
      return requests.lastHeaders;
    },
    requests: { count: (path) => requests.count(path), reset: () => requests.reset() },
    tick: (n = 1) => void market.tick(n),
    setFault: (fault) => faults.add(validateFault(fault)),
    clearFaults: () => faults.clear(),
    close() {
      closing.abort();
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets of clients would otherwise hold close() open.
        server.closeAllConnections();
      });
    },
  };
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

interface Context {
  market: Market;
  faults: FaultQueue;
  requests: RequestCounter;
  closing: AbortSignal;
}

// ---------------------------------------------------------------------------------------------------------------
// Bookkeeping

class RequestCounter {
  private readonly perPath = new Map<string, number>();
  private total = 0;
  lastHeaders: IncomingHttpHeaders | undefined;

  record(path: string, headers: IncomingHttpHeaders): void {
    this.perPath.set(path, (this.perPath.get(path) ?? 0) + 1);
    this.total++;
    this.lastHeaders = headers;
  }

  count(path?: string): number {
    return path === undefined ? this.total : (this.perPath.get(path) ?? 0);
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.perPath);
  }

  reset(): void {
    this.perPath.clear();
    this.total = 0;
    this.lastHeaders = undefined;
  }
}

interface QueuedFault {
  fault: Fault;
  remaining: number;
}

class FaultQueue {
  private queued: QueuedFault[] = [];

  add(fault: Fault): void {
    const times = fault.times ?? 1;
    this.queued.push({ fault, remaining: times === -1 ? Infinity : times });
  }

  clear(): void {
    this.queued = [];
  }

  /** The fault this request suffers, if any; counts it against the fault's `times`. */
  take(source: SourceName): Fault | undefined {
    const position = this.queued.findIndex(({ fault }) => (fault.source ?? source) === source);
    const entry = this.queued[position];
    if (!entry) return undefined;
    entry.remaining--;
    if (entry.remaining <= 0) this.queued.splice(position, 1);
    return entry.fault;
  }

  /** JSON has no Infinity, so "until cleared" is reported as -1, the way it can be sent. */
  toJSON(): Array<Fault & { remaining: number }> {
    const finite = (n: number): number => (n === Infinity ? -1 : n);
    return this.queued.map(({ fault, remaining }) => ({
      ...fault,
      ...(fault.times === undefined ? {} : { times: finite(fault.times) }),
      remaining: finite(remaining),
    }));
  }
}

export function validateFault(input: unknown): Fault {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new FaultError('a fault is a JSON object');
  const raw = input as Record<string, unknown>;
  const kind = raw.kind;
  if (typeof kind !== 'string' || !(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new FaultError(`fault kind must be one of ${FAULT_KINDS.join(', ')}`);
  }
  const fault: Fault = { kind: kind as FaultKind };
  if (raw.source !== undefined) {
    if (raw.source !== 'coingecko' && raw.source !== 'coinpaprika') {
      throw new FaultError('fault source must be coingecko or coinpaprika');
    }
    fault.source = raw.source;
  }
  if (raw.times !== undefined) {
    const times = raw.times;
    const valid = times === Infinity || times === -1 || (Number.isInteger(times) && (times as number) >= 1);
    if (!valid) throw new FaultError('fault times must be a positive integer, -1 or Infinity');
    fault.times = times as number;
  }
  fault.retryAfterSeconds = optionalNonNegative(raw, 'retryAfterSeconds');
  fault.delayMs = optionalNonNegative(raw, 'delayMs');
  if (raw.field !== undefined) {
    if (typeof raw.field !== 'string' || raw.field === '') throw new FaultError('fault field must be a non-empty string');
    fault.field = raw.field;
  }
  if ((fault.kind === 'rename-field' || fault.kind === 'missing-field') && fault.field === undefined) {
    throw new FaultError(`a ${fault.kind} fault needs a field`);
  }
  // Drop the keys left undefined so the fault reads back as it was given.
  return Object.fromEntries(Object.entries(fault).filter(([, value]) => value !== undefined)) as Fault;
}

function optionalNonNegative(raw: Record<string, unknown>, key: string): number | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new FaultError(`fault ${key} must be a non-negative number`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Routing

type DataHandler = (url: URL, res: ServerResponse, view: MarketView, fault: Fault | undefined) => Promise<void>;

const DATA_ROUTES: ReadonlyMap<string, { source: SourceName; serve: DataHandler }> = new Map([
  ['/api/v3/coins/markets', { source: 'coingecko' as const, serve: serveGeckoMarkets }],
  ['/v1/tickers', { source: 'coinpaprika' as const, serve: servePaprikaTickers }],
]);

async function handle(req: IncomingMessage, res: ServerResponse, context: Context): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  if (url.pathname.startsWith('/__sim/')) return handleAdmin(req, res, url, context);

  context.requests.record(url.pathname, req.headers);
  const route = DATA_ROUTES.get(url.pathname);
  if (!route) return sendJson(res, 404, { error: 'Not Found' });
  if (req.method !== 'GET') return sendJson(res, 405, { error: 'Method Not Allowed' }, { allow: 'GET' });

  const fault = context.faults.take(route.source);
  if (fault?.kind === 'slow') {
    const delayed = await sleep(fault.delayMs ?? DEFAULT_SLOW_MS, true, { signal: context.closing }).catch(() => false);
    if (!delayed) return void res.destroy();
  }
  if (fault?.kind === 'rate-limit') return sendRateLimit(res, route.source, fault);
  if (fault?.kind === 'server-error') return sendJson(res, 500, SERVER_ERROR_BODY[route.source]);
  // The view is taken once, so a tick during a long stream cannot mix two snapshots in one response.
  return route.serve(url, res, context.market.view(), fault);
}

const RATE_LIMIT_BODY: Record<SourceName, unknown> = {
  coingecko: {
    status: {
      error_code: 429,
      error_message:
        "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits.",
    },
  },
  coinpaprika: { error: 'Too Many Requests' },
};

const SERVER_ERROR_BODY: Record<SourceName, unknown> = {
  coingecko: { error: 'Internal Server Error' },
  coinpaprika: { error: 'internal server error' },
};

function sendRateLimit(res: ServerResponse, source: SourceName, fault: Fault): void {
  const headers: Record<string, string> =
    fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
  sendJson(res, 429, RATE_LIMIT_BODY[source], headers);
}

async function handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL, context: Context): Promise<void> {
  const { market, faults, requests } = context;
  const route = `${req.method ?? 'GET'} ${url.pathname}`;
  switch (route) {
    case 'GET /__sim/health': {
      const view = market.view();
      return sendJson(res, 200, {
        status: 'ok',
        seed: market.seed,
        coins: market.coinCount,
        tick: market.currentTick,
        now: market.now().toISOString(),
        geckoCoins: view.geckoCount,
        paprikaCoins: view.paprikaCount,
        faults,
        requests,
      });
    }
    case 'GET /__sim/faults':
      return sendJson(res, 200, faults);
    case 'POST /__sim/faults': {
      // One fault or a list of them, queued in order.
      const body = await readJson(req);
      const list = (Array.isArray(body) ? body : [body]).map(validateFault);
      list.forEach((fault) => faults.add(fault));
      return sendJson(res, 201, faults);
    }
    case 'DELETE /__sim/faults':
      faults.clear();
      res.writeHead(204).end();
      return;
    case 'POST /__sim/tick': {
      const n = url.searchParams.has('n') ? Number(url.searchParams.get('n')) : 1;
      if (!Number.isInteger(n) || n < 0) return sendJson(res, 400, { error: 'n must be a non-negative integer' });
      market.tick(n);
      return sendJson(res, 200, { tick: market.currentTick, now: market.now().toISOString() });
    }
    default:
      return sendJson(res, 404, { error: `no admin route ${route}` });
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ADMIN_BODY_BYTES) throw new FaultError('request body too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new FaultError('request body is not JSON');
  }
}

function failRequest(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = error instanceof FaultError ? 400 : 500;
  sendJson(res, status, { error: error instanceof Error ? error.message : String(error) });
}

// ---------------------------------------------------------------------------------------------------------------
// CoinGecko: GET /api/v3/coins/markets

type GeckoQuery = { ok: true; page: number; perPage: number } | { ok: false; error: string };

function parseGeckoQuery(params: URLSearchParams): GeckoQuery {
  if (params.get('vs_currency')?.toLowerCase() !== 'usd') return { ok: false, error: 'invalid vs_currency' };
  const order = params.get('order');
  if (order !== null && order !== 'market_cap_desc') return { ok: false, error: 'invalid order' };
  const perPage = integerParam(params, 'per_page', GECKO_DEFAULT_PER_PAGE);
  if (perPage === undefined || perPage < 1 || perPage > GECKO_MAX_PER_PAGE) {
    return { ok: false, error: `per_page must be an integer between 1 and ${GECKO_MAX_PER_PAGE}` };
  }
  const page = integerParam(params, 'page', 1);
  if (page === undefined || page < 1) return { ok: false, error: 'page must be a positive integer' };
  return { ok: true, page, perPage };
}

function integerParam(params: URLSearchParams, name: string, fallback: number): number | undefined {
  const text = params.get(name);
  if (text === null) return fallback;
  const value = Number(text);
  return text.trim() !== '' && Number.isSafeInteger(value) ? value : undefined;
}

async function serveGeckoMarkets(url: URL, res: ServerResponse, view: MarketView, fault?: Fault): Promise<void> {
  const query = parseGeckoQuery(url.searchParams);
  if (!query.ok) return sendJson(res, 400, { error: query.error });
  const records = view.geckoPage(query.page, query.perPage).map((record) => reshape(record, fault));
  sendText(res, 200, JSON.stringify(records), fault);
}

// ---------------------------------------------------------------------------------------------------------------
// CoinPaprika: GET /v1/tickers, one array of every coin

async function servePaprikaTickers(_url: URL, res: ServerResponse, view: MarketView, fault?: Fault): Promise<void> {
  const pieces = jsonArrayPieces(view.paprikaTickers(), fault);
  if (fault?.kind === 'truncated') return sendText(res, 200, [...pieces].join(''), fault);
  res.writeHead(200, { 'content-type': JSON_TYPE });
  for (const piece of pieces) {
    if (res.destroyed) return;
    if (!res.write(piece)) await drained(res);
  }
  res.end();
}

/** The array's JSON in pieces of about STREAM_CHUNK_CHARS; joined, it equals JSON.stringify(array). */
function* jsonArrayPieces(records: Iterable<object>, fault: Fault | undefined): Generator<string> {
  let piece = '[';
  let first = true;
  for (const record of records) {
    piece += (first ? '' : ',') + stringify(reshape(record, fault));
    first = false;
    if (piece.length >= STREAM_CHUNK_CHARS) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}]`;
}

/** Resolves when the socket can take more, or is gone (then the caller sees res.destroyed). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Responses and body faults

/** Applies a rename-field / missing-field fault to one record; other records and faults pass through as is. */
function reshape(record: object, fault: Fault | undefined): object {
  if (fault?.field === undefined || (fault.kind !== 'rename-field' && fault.kind !== 'missing-field')) return record;
  return reshapePath(record, fault.field.split('.'), fault.kind === 'rename-field');
}

function reshapePath(record: object, path: readonly string[], rename: boolean): object {
  const [head, ...rest] = path;
  const out: Record<string, unknown> = {};
  // Rebuilt key by key so a renamed field keeps its position, as a real schema change would.
  for (const [key, value] of Object.entries(record)) {
    if (key !== head) out[key] = value;
    else if (rest.length > 0) out[key] = isObject(value) ? reshapePath(value, rest, rename) : value;
    else if (rename) out[`${key}_renamed`] = value;
  }
  return out;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, JSON.stringify(body), undefined, headers);
}

/** Sends a whole body with its content-length; a 'truncated' fault cuts it in half, length included. */
function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  fault: Fault | undefined,
  headers: Record<string, string> = {},
): void {
  const full = Buffer.from(text, 'utf8');
  const body = fault?.kind === 'truncated' ? full.subarray(0, Math.floor(full.length / 2)) : full;
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': String(body.length), ...headers });
  res.end(body);
}
