import request from 'supertest';
import { appWithReadCache, createApiContext, type ApiContext } from '../support/api';
import { eventually } from '../support/eventually';
import { ingest } from '../support/ingest';

const KEY = 'k'.repeat(12) + '-test-key-0123';
let ctx: ApiContext;
let open: ApiContext;

beforeAll(async () => {
  [ctx, open] = await Promise.all([createApiContext({ apiKey: KEY }), createApiContext()]);
  await ingest(ctx.db.sql, ctx.sources, 'coingecko');
  await ingest(ctx.db.sql, ctx.sources, 'coinpaprika');
});
afterAll(async () => {
  await Promise.all([ctx?.close(), open?.close()]);
});

describe('GET /', () => {
  test('When asked, then it names the service, lists every endpoint and links the docs and the Web UI', async () => {
    const res = await request(ctx.app).get('/').expect(200);
    expect(res.body).toMatchObject({ service: 'kasparro-etl', links: { docs: '/docs', openapi: '/openapi.json' } });
    const paths = res.body.endpoints.map((e: { method: string; path: string }) => `${e.method} ${e.path}`);
    expect(paths).toEqual(expect.arrayContaining(['GET /data', 'GET /assets/:asset_id', 'POST /etl/run', 'GET /metrics']));
    expect(res.body.links.temporal_web_ui).toBe(ctx.deps.temporal.webUiUrl);
  });
});

describe('GET /assets/:asset_id', () => {
  test('When the asset is listed by two sources, then both latest quotes, their median and spread come back', async () => {
    const [btc] = await ctx.db.sql<{ asset_id: string }[]>`
      SELECT asset_id::text FROM asset_mappings WHERE source = 'coingecko' AND source_asset_id = 'bitcoin'`;
    const res = await request(ctx.app).get(`/assets/${btc?.asset_id}`).expect(200);
    const prices = await ctx.db.sql<{ p: number }[]>`SELECT price_usd::float8 AS p FROM latest_quotes WHERE asset_id = ${btc?.asset_id ?? ''} ORDER BY 1`;
    expect(res.body.quotes.map((q: { source: string }) => q.source).sort()).toEqual(['coingecko', 'coinpaprika']);
    const [lo, hi] = [prices[0]?.p ?? NaN, prices[1]?.p ?? NaN];
    expect(res.body.median_price_usd).toBeCloseTo((lo + hi) / 2, 6);
    expect(res.body.spread).toMatchObject({ min_usd: lo, max_usd: hi });
    expect(res.body.spread.abs_usd).toBeCloseTo(hi - lo, 6);
  });

  test('When the read cache is on, then an asset serves from memory until a change to it commits, then fresh', async () => {
    const withCache = await appWithReadCache(ctx, 60_000);
    const [btc] = await ctx.db.sql<{ asset_id: string; name: string }[]>`
      SELECT a.asset_id::text, a.name FROM assets a JOIN asset_mappings m USING (asset_id)
       WHERE m.source = 'coingecko' AND m.source_asset_id = 'bitcoin'`;
    const id = btc?.asset_id ?? '';
    const nameOf = async () => (await request(withCache.app).get(`/assets/${id}`).expect(200)).body.name;
    try {
      expect(await nameOf()).toBe(btc?.name);
      // A write with triggers off announces nothing: the answer stays as cached, which shows it is cached.
      await ctx.db.sql.begin(async (tx) => {
        await tx`SET LOCAL session_replication_role = replica`;
        await tx`UPDATE assets SET name = 'Unannounced' WHERE asset_id = ${id}`;
      });
      expect(await nameOf()).toBe(btc?.name);
      // A rename (sql/008) and a new latest quote (sql/004) each show right after their commit.
      await ctx.db.sql`UPDATE assets SET name = 'Bitcoin Renamed' WHERE asset_id = ${id}`;
      await eventually('the renamed asset', async () => (await nameOf()) === 'Bitcoin Renamed', { timeoutMs: 5_000, intervalMs: 20 });
      await ctx.db.sql`UPDATE latest_quotes SET price_usd = price_usd * 2 WHERE asset_id = ${id} AND source = 'coingecko'`;
      const [doubled] = await ctx.db.sql<{ p: number }[]>`
        SELECT price_usd::float8 AS p FROM latest_quotes WHERE asset_id = ${id} AND source = 'coingecko'`;
      await eventually('the new latest quote', async () => {
        const res = await request(withCache.app).get(`/assets/${id}`).expect(200);
        return res.body.quotes.some((q: { source: string; price_usd: number }) => q.source === 'coingecko' && q.price_usd === doubled?.p);
      }, { timeoutMs: 5_000, intervalMs: 20 });
    } finally {
      await ctx.db.sql`UPDATE assets SET name = ${btc?.name ?? ''} WHERE asset_id = ${id}`;
      await ctx.db.sql`UPDATE latest_quotes SET price_usd = price_usd / 2 WHERE asset_id = ${id} AND source = 'coingecko'`;
      await withCache.close();
    }
  });

  test('When the asset is unknown, then 404; when the id is not a number, then 400 naming asset_id', async () => {
    await request(ctx.app).get('/assets/999999999').expect(404);
    const bad = await request(ctx.app).get('/assets/bitcoin').expect(400);
    expect(bad.body.details).toEqual([expect.objectContaining({ field: 'asset_id' })]);
  });
});

describe('POST /etl/run', () => {
  test('When API_KEY is set and the header is missing or wrong, then 401, before the body is even read', async () => {
    await request(ctx.app).post('/etl/run').send({ source: 'csv' }).expect(401);
    await request(ctx.app).post('/etl/run').set('X-API-Key', `${KEY}x`).send({ source: 'nope' }).expect(401);
  });

  test('When the key is right, then 202 with the run, and a second start returns the same in-flight run', async () => {
    const first = await request(ctx.app).post('/etl/run').set('X-API-Key', KEY).send({ source: 'csv' }).expect(202);
    expect(first.body.runs).toEqual([
      expect.objectContaining({ source: 'csv', workflow_id: 'etl-csv', started: true, web_ui_url: expect.stringContaining('/workflows/etl-csv') }),
    ]);
    const again = await request(ctx.app).post('/etl/run').set('X-API-Key', KEY).send({ source: 'csv' }).expect(202);
    expect(again.body.runs[0]).toMatchObject({ run_id: first.body.runs[0].run_id, started: false });
    const described = await ctx.env.client.workflow.getHandle('etl-csv').describe();
    expect(described.status.name).toBe('RUNNING');
  });

  test('When no API_KEY is configured, then the endpoint is open and "all" starts every source with failure injection', async () => {
    const res = await request(open.app).post('/etl/run').send({ failAfterRecords: 10, mode: 'fatal' }).expect(202);
    expect(res.body.runs.map((r: { source: string }) => r.source).sort()).toEqual(['coingecko', 'coinpaprika', 'csv']);
    const handle = open.env.client.workflow.getHandle('etl-coingecko');
    const history = await handle.fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    expect(JSON.parse(Buffer.from(input ?? []).toString())).toMatchObject({ trigger: 'api', failure: { afterRecords: 10, mode: 'fatal' } });
  });

  test.each([
    [{ source: 'binance' }, 'source'],
    [{ failAfterRecords: -1 }, 'failAfterRecords'],
    [{ failAfterRecords: 1.5 }, 'failAfterRecords'],
    [{ mode: 'fatal' }, 'mode'],
    [{ source: 'csv', extra: true }, '(body)'],
  ])('When the body is %j, then 400 names %s', async (body, field) => {
    const res = await request(open.app).post('/etl/run').send(body).expect(400);
    expect(JSON.stringify(res.body.details)).toContain(field);
  });

  test('When the body is not JSON, then 400, not a stack trace', async () => {
    const res = await request(open.app).post('/etl/run').set('Content-Type', 'application/json').send('{"source":').expect(400);
    expect(res.body).toMatchObject({ error: 'bad_request' });
    expect(JSON.stringify(res.body)).not.toMatch(/SyntaxError|at .*:\d+/);
  });
});

describe('observability and docs', () => {
  test('When /metrics is scraped, then records, runs, durations, HTTP latency and process metrics are there', async () => {
    await request(ctx.app).get('/data').expect(200);
    const res = await request(ctx.app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    const [totals] = await ctx.db.sql<{ fetched: number }[]>`SELECT sum(fetched)::int AS fetched FROM etl_runs WHERE source = 'coingecko'`;
    expect(res.text).toContain(`kasparro_records_processed_total{source="coingecko",outcome="fetched"} ${totals?.fetched}`);
    expect(res.text).toMatch(/kasparro_runs\{source="coinpaprika",status="succeeded"\} 1/);
    expect(res.text).toMatch(/kasparro_run_duration_seconds_count\{source="coingecko",status="succeeded"\} 1/);
    expect(res.text).toMatch(/kasparro_http_request_duration_seconds_count\{method="GET",route="\/data",status="200"\} [1-9]/);
    expect(res.text).toContain('process_cpu_seconds_total');
  });

  test('When a request carries X-Request-Id, then it is echoed; otherwise one is generated', async () => {
    const given = await request(ctx.app).get('/data?limit=1').set('X-Request-Id', 'trace-123').expect(200);
    expect(given.headers['x-request-id']).toBe('trace-123');
    expect(given.body.request_id).toBe('trace-123');
    const generated = await request(ctx.app).get('/data?limit=1').expect(200);
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('When /openapi.json and /docs are fetched, then the document lists the routes and Swagger UI serves it', async () => {
    const doc = await request(ctx.app).get('/openapi.json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/data', '/assets/{asset_id}', '/etl/run']));
    expect(doc.body.paths['/etl/run'].post.security).toEqual([{ ApiKey: [] }]);
    const docs = await request(ctx.app).get('/docs/').expect(200);
    expect(docs.text).toContain('swagger-ui');
  });
});

test('When all the responses above were served, then each matches openapi.json', () => {
  expect(ctx.responses() + open.responses()).toBeGreaterThan(15);
  expect([...ctx.nonConformant(), ...open.nonConformant()]).toEqual([]);
});
