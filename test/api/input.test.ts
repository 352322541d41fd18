/**
 * What the API makes of input it cannot use, on every route the OpenAPI document declares, over real PostgreSQL
 * and a Temporal dev server: text PostgreSQL cannot store, bodies that are not JSON, undeclared methods, paths
 * that do not decode. Each is a 4xx in JSON naming what was wrong, never a 500, and starts nothing.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { SOURCE_NAMES } from '../../src/sources';
import { answerClientErrors } from '../../api/client-errors';
import { createApiContext, type ApiContext } from '../support/api';
import { ingest } from '../support/ingest';

let ctx: ApiContext;
/** An open required_missing change made by a real load: accepting it writes the field mapping (jsonb). */
let changeId: number;

type Parameter = { name: string; in: 'query' | 'path'; schema?: { type?: string } };
type Operation = { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: { $ref?: string } }> } };
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };

const RUN_ID = '0198c2b4-3f3a-7c1e-9d52-8e1f0a6b4c21';
/** Values each path parameter could have, so a request reaches the route. */
const PATH_VALUES: Record<string, () => string> = {
  asset_id: () => '1',
  run_id: () => RUN_ID,
  id: () => String(changeId),
  source: () => 'csv',
};

function operations(): { method: string; path: string; operation: Operation }[] {
  const doc = ctx.openapi as unknown as Document;
  return Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ method, path, operation })));
}

/** `/runs/{run_id}` → `/runs/0198…`, or with one parameter set to `given` (already percent-encoded). */
function urlOf(path: string, given: Record<string, string> = {}): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => given[name] ?? (PATH_VALUES[name]?.() ?? 'x'));
}

/** Every text input of every declared operation: query and path parameters, and each property of a JSON body. */
function textInputs(): { method: string; path: string; in: 'query' | 'path' | 'body'; name: string }[] {
  const doc = ctx.openapi as unknown as Document;
  return operations().flatMap(({ method, path, operation }) => {
    const params = (operation.parameters ?? []).map((p) => ({ method, path, in: p.in, name: p.name }));
    const ref = operation.requestBody?.content['application/json']?.schema.$ref;
    const body = ref ? Object.keys(doc.components.schemas[ref.split('/').pop() ?? '']?.properties ?? {}) : [];
    return [...params, ...body.map((name) => ({ method, path, in: 'body' as const, name }))];
  });
}

function expectNoStack(res: request.Response) {
  expect(JSON.stringify(res.body)).not.toMatch(/at .*\.[jt]s:\d+|Error:/);
}

async function expectNothingStarted() {
  for (const source of SOURCE_NAMES) {
    await expect(ctx.env.client.workflow.getHandle(`etl-${source}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  }
}

beforeAll(async () => {
  ctx = await createApiContext({ coins: 60 });
  await ingest(ctx.db.sql, ctx.sources, 'coingecko');
  ctx.simulator.setFault({ kind: 'rename-field', source: 'coingecko', field: 'current_price', times: Infinity });
  await ingest(ctx.db.sql, ctx.sources, 'coingecko');
  ctx.simulator.clearFaults();
  const [row] = await ctx.db.sql<{ id: number }[]>`
    SELECT id::int FROM schema_changes WHERE source = 'coingecko' AND kind = 'required_missing' AND field = 'current_price'`;
  changeId = row?.id ?? 0;
});
afterAll(async () => {
  await ctx?.close();
});

describe('text PostgreSQL cannot store', () => {
  test('When the document is read, then it declares the text inputs these tests send a NUL byte in', () => {
    const names = textInputs().map((i) => `${i.method.toUpperCase()} ${i.path} ${i.in} ${i.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'GET /data query q',
        'GET /data query symbol',
        'GET /data query cursor',
        'GET /assets/{asset_id} path asset_id',
        'GET /runs/{run_id} path run_id',
        'GET /compare-runs query run_id_1',
        'POST /schema-changes/{id}/accept path id',
        'POST /schema-changes/{id}/accept body from',
        'POST /etl/run body source',
        'GET /sources/{source}/mapping path source',
      ]),
    );
  });

  test('When any text input of any route holds a NUL byte, then 400 names that field, and nothing reaches the database', async () => {
    const answers: string[] = [];
    for (const input of textInputs()) {
      let req: request.Test;
      if (input.in === 'path') req = request(ctx.app)[input.method as 'get'](urlOf(input.path, { [input.name]: 'a%00b' }));
      else if (input.in === 'query') req = request(ctx.app)[input.method as 'get'](`${urlOf(input.path)}?${input.name}=a%00b`);
      else req = request(ctx.app)[input.method as 'post'](urlOf(input.path)).send({ [input.name]: 'a\u0000b' });
      const res = await req;
      expectNoStack(res);
      const fields = (res.body.details ?? []).map((d: { field: string }) => d.field);
      answers.push(`${input.method.toUpperCase()} ${input.path} ${input.name}: ${res.status} ${fields.includes(input.name) ? 'names it' : JSON.stringify(res.body)}`);
    }
    expect(answers).toEqual(textInputs().map((i) => `${i.method.toUpperCase()} ${i.path} ${i.name}: 400 names it`));
    await expectNothingStarted();
  });

  test.each([
    ['a NUL byte', 'current\\u0000price'],
    ['an unpaired surrogate', 'current\\ud800price'],
  ])('When a mapping is written from a field name with %s, then 400 names from and the change stays open', async (_what, json) => {
    const res = await request(ctx.app).post(`/schema-changes/${changeId}/accept`).type('json').send(`{"from":"${json}"}`).expect(400);
    expect(res.body.details).toEqual([{ field: 'from', reason: expect.stringMatching(/NUL|surrogate/) }]);
    const [change] = await ctx.db.sql<{ status: string }[]>`SELECT status FROM schema_changes WHERE id = ${changeId}`;
    expect(change?.status).toBe('open');
  });

  test('When a path does not decode as UTF-8, then 400 names the path', async () => {
    const res = await request(ctx.app).get('/assets/%FF').expect(400);
    expect(res.body.details).toEqual([{ field: '(path)', reason: expect.any(String) }]);
  });
});

describe('POST bodies that are not JSON', () => {
  test.each([
    ['JSON sent as text/plain', (r: request.Test) => r.set('Content-Type', 'text/plain').send('{"source":"csv"}')],
    ['a form', (r: request.Test) => r.type('form').send('source=csv')],
    ['JSON sent as a form (curl -d)', (r: request.Test) => r.type('form').send('{"source":"csv"}')],
    ['an empty text/plain body', (r: request.Test) => r.set('Content-Type', 'text/plain').send('')],
    ['JSON in a charset it cannot read', (r: request.Test) => r.set('Content-Type', 'application/json; charset=latin9').send('{"source":"csv"}')],
  ])('When POST /etl/run gets %s, then 415 and no run starts', async (_what, send) => {
    const res = await send(request(ctx.app).post('/etl/run')).expect(415);
    expect(res.body).toMatchObject({ error: 'unsupported_media_type', message: expect.any(String) });
    expectNoStack(res);
    await expectNothingStarted();
  });

  test('When a body comes without any Content-Type, then 415 and no run starts', async () => {
    // supertest names a type for every body it sends; fetch sends bytes untyped.
    const server = ctx.app.listen(0);
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/etl/run`, { method: 'POST', body: new TextEncoder().encode('{"source":"csv"}') });
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([415, 'unsupported_media_type']);
    } finally {
      server.close();
    }
    await expectNothingStarted();
  });

  test.each([
    ['truncated JSON', 400, 'bad_request', '{"source":'],
    ['JSON that is not an object', 400, 'bad_request', '"csv"'],
    ['a body over 64 KB', 413, 'payload_too_large', JSON.stringify({ source: 'x'.repeat(70_000) })],
  ])('When POST /etl/run gets %s as application/json, then %i %s and no run starts', async (_what, status, error, body) => {
    const res = await request(ctx.app).post('/etl/run').type('json').send(body).expect(status);
    expect(res.body.error).toBe(error);
    if (status === 400) expect(res.body.details).toEqual([{ field: '(body)', reason: expect.any(String) }]);
    await expectNothingStarted();
  });

  test.each(['accept', 'ignore'])('When POST /schema-changes/:id/%s gets a text/plain body, then 415 and the change stays open', async (action) => {
    const res = await request(ctx.app).post(`/schema-changes/${changeId}/${action}`).set('Content-Type', 'text/plain').send('{"from":"current_price_renamed"}');
    expect([res.status, res.body.error]).toEqual([415, 'unsupported_media_type']);
    const [change] = await ctx.db.sql<{ status: string }[]>`SELECT status FROM schema_changes WHERE id = ${changeId}`;
    expect(change?.status).toBe('open');
  });

  test('When the document is read, then every POST body is JSON, required only where {} is not valid, and 413 and 415 are declared', () => {
    const posts = operations().filter((o) => o.method === 'post');
    expect(posts.map((o) => o.path)).toEqual(expect.arrayContaining(['/etl/run', '/schema-changes/{id}/accept', '/schema-changes/{id}/ignore', '/identity/merge']));
    // A request without a body reads as {}: only a body with required fields is required.
    const needsFields = new Set(['/identity/merge', '/identity/split', '/identity/override']);
    for (const { path, operation } of posts) {
      const responses = Object.keys((operation as { responses: object }).responses);
      expect([path, responses]).toEqual([path, expect.arrayContaining(['400', '413', '415'])]);
      if (operation.requestBody) {
        expect([path, operation.requestBody]).toMatchObject([path, { required: needsFields.has(path), content: { 'application/json': {} } }]);
      }
    }
  });

  // Last: it starts runs. An empty body is `{}`, whose source defaults to "all" (the README and the document say so).
  test('When POST /etl/run comes with no body at all, or an empty JSON one, then 202 starts every source', async () => {
    const none = await request(ctx.app).post('/etl/run').expect(202);
    expect(none.body.runs.map((r: { source: string }) => r.source).sort()).toEqual([...SOURCE_NAMES].sort());
    const empty = await request(ctx.app).post('/etl/run').type('json').send('').expect(202);
    expect(empty.body.runs.every((r: { started: boolean }) => !r.started)).toBe(true);
  });
});

describe('methods a path does not declare', () => {
  const allowOf = (path: string) => {
    const declared = operations().filter((o) => o.path === path).map((o) => o.method.toUpperCase());
    return [...declared.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])), 'OPTIONS'].join(', ');
  };

  test('When TRACE, PUT, DELETE or PATCH is sent to any path, or the other of GET and POST, then 405 in JSON with Allow', async () => {
    const answers: string[] = [];
    for (const path of new Set(operations().map((o) => o.path))) {
      const declared = operations().filter((o) => o.path === path).map((o) => o.method);
      const others = ['trace', 'put', 'delete', 'patch', ...['get', 'post'].filter((m) => !declared.includes(m))];
      for (const m of others) {
        const res = await request(ctx.app)[m as 'put'](urlOf(path));
        answers.push(`${m.toUpperCase()} ${path}: ${res.status} ${res.headers.allow} ${res.body.error}`);
        expectNoStack(res);
      }
      expect(answers.filter((a) => a.includes(` ${path}: `))).toEqual(others.map((m) => `${m.toUpperCase()} ${path}: 405 ${allowOf(path)} method_not_allowed`));
    }
    expect(answers.length).toBeGreaterThan(40);
  });

  test('When OPTIONS is sent, then 204 with Allow; HEAD on a GET path answers as GET without a body', async () => {
    const options = await request(ctx.app).options('/data').expect(204);
    expect(options.headers.allow).toBe('GET, HEAD, OPTIONS');
    expect((await request(ctx.app).options('/etl/run').expect(204)).headers.allow).toBe('POST, OPTIONS');
    const head = await request(ctx.app).head('/data?limit=1').expect(200);
    expect(head.headers['content-type']).toMatch(/^application\/json/);
    expect(head.text ?? '').toBe('');
    await request(ctx.app).head('/runs/nope').expect(400);
  });

  test('When the path is unknown, then 404 in JSON whatever the method', async () => {
    for (const m of ['get', 'put', 'trace'] as const) {
      const res = await request(ctx.app)[m]('/nope').expect(404);
      expect(res.body.error).toBe('not_found');
      expect(res.headers.allow).toBeUndefined();
    }
  });
});

describe('whole numbers in the query string', () => {
  /** Every operation's integer query parameters, from the document. */
  const integerParams = () =>
    operations().flatMap(({ method, path, operation }) =>
      (operation.parameters ?? []).filter((p) => p.in === 'query' && p.schema?.type === 'integer').map((p) => ({ method, path, name: p.name })),
    );

  test('When the document is read, then limit and offset are plain integers wherever they are taken', () => {
    const doc = ctx.openapi as unknown as Document;
    const pageParams = operations().flatMap(({ path, operation }) =>
      (operation.parameters ?? []).filter((p) => p.name === 'limit' || p.name === 'offset').map((p) => ({ path, name: p.name, type: p.schema?.type })),
    );
    expect(pageParams.map((p) => p.path)).toEqual(expect.arrayContaining(['/data', '/runs', '/schema-changes']));
    expect(pageParams.filter((p) => p.type !== 'integer')).toEqual([]);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(5);
  });

  test.each(['0x10', '1e1', ' 5', '5 ', '', '5.0', '+5', '0b1', 'Infinity', '٣'])(
    'When an integer parameter is %j, then 400 names it on every operation that takes it',
    async (value) => {
      const params = integerParams().filter((p) => p.method === 'get');
      expect(params.length).toBeGreaterThanOrEqual(6);
      for (const { path, name } of params) {
        const res = await request(ctx.app).get(`${urlOf(path)}?${name}=${encodeURIComponent(value)}`);
        expect([path, name, res.status, res.body.details?.[0]?.field]).toEqual([path, name, 400, name]);
      }
    },
  );

  test('When an integer parameter is written in decimal digits, then it is taken', async () => {
    const res = await request(ctx.app).get('/data?limit=007&offset=0').expect(200);
    expect(res.body.pagination).toMatchObject({ limit: 7, offset: 0 });
  });
});

describe('requests Node refuses before the app sees them', () => {
  test('When the request line is over 16 KB (a long cursor), then 431 in JSON with an X-Request-Id, and the server keeps serving', async () => {
    const server = ctx.app.listen(0);
    answerClientErrors(server);
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/data?cursor=${'A'.repeat(20_000)}`);
      const body = (await res.json()) as { error: string; request_id: string };
      expect([res.status, body.error]).toEqual([431, 'headers_too_large']);
      expect(res.headers.get('x-request-id')).toBe(body.request_id);
      expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
      expect((await fetch(`http://127.0.0.1:${port}/data?limit=1`)).status).toBe(200);
    } finally {
      server.close();
    }
  });

  test('When the document is read, then every operation declares the 431', () => {
    expect(operations().filter(({ operation }) => !('431' in ((operation as { responses?: object }).responses ?? {})))).toEqual([]);
  });
});
