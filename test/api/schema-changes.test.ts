/**
 * Schema changes through the API and the CLI, over real PostgreSQL and a Temporal dev server: the changes are
 * produced by real loads (test/support/ingest.ts) from the market simulator's rename-field and missing-field
 * faults, then listed, settled, and seen in /runs/:run_id, /health and /metrics.
 */
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import request from 'supertest';
import { createApp } from '../../api/app';
import type { IngestResult } from '../../src/shared/types';
import { createApiContext, healthWithWorker, type ApiContext } from '../support/api';
import { ingest } from '../support/ingest';
import { Processes } from '../support/processes';
import { bundleWorkflows } from '../support/temporal';

const KEY = 'schema-changes-test-key-0123';
let ctx: ApiContext;
let bundle: WorkflowBundleWithSourceMap;
const processes = new Processes();

/** The runs of beforeAll, and the ids of the changes they produced. */
let baseline: IngestResult;
let renamed: IngestResult;
let renamedAgain: IngestResult;
let dropped: IngestResult;
let paprikaRenamed: IngestResult;
const ids = { price: 0, volume: 0, paprikaPrice: 0 };

async function changeId(source: string, kind: string, field: string): Promise<number> {
  const [row] = await ctx.db.sql<{ id: number }[]>`
    SELECT id::int FROM schema_changes WHERE source = ${source} AND kind = ${kind} AND field = ${field}`;
  if (!row) throw new Error(`no schema change ${source} ${kind} ${field}`);
  return row.id;
}

beforeAll(async () => {
  [ctx, bundle] = await Promise.all([createApiContext({ apiKey: KEY, coins: 120 }), bundleWorkflows()]);
  const { sql } = ctx.db;
  const { simulator, sources } = ctx;
  baseline = await ingest(sql, sources, 'coingecko');
  simulator.setFault({ kind: 'rename-field', source: 'coingecko', field: 'current_price', times: Infinity });
  renamed = await ingest(sql, sources, 'coingecko');
  renamedAgain = await ingest(sql, sources, 'coingecko');
  simulator.clearFaults();
  simulator.setFault({ kind: 'missing-field', source: 'coingecko', field: 'total_volume', times: Infinity });
  dropped = await ingest(sql, sources, 'coingecko');
  simulator.clearFaults();
  await ingest(sql, sources, 'coinpaprika');
  simulator.setFault({ kind: 'rename-field', source: 'coinpaprika', field: 'quotes.USD.price', times: Infinity });
  paprikaRenamed = await ingest(sql, sources, 'coinpaprika');
  simulator.clearFaults();
  ids.price = await changeId('coingecko', 'required_missing', 'current_price');
  ids.volume = await changeId('coingecko', 'optional_missing', 'total_volume');
  ids.paprikaPrice = await changeId('coinpaprika', 'required_missing', 'quotes.USD.price');
});
afterAll(async () => {
  await processes.stopAll();
  await ctx?.close();
});

const withKey = (req: request.Test) => req.set('X-API-Key', KEY);
const accept = (id: number | string, body?: object) => withKey(request(ctx.app).post(`/schema-changes/${id}/accept`)).send(body);
const ignore = (id: number | string) => withKey(request(ctx.app).post(`/schema-changes/${id}/ignore`));

/** The value of one series in a Prometheus text exposition; undefined when it is not there. */
function series(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function mappingRows(source: string) {
  return ctx.db.sql<{ version: number; mapping: Record<string, string>; change_id: number }[]>`
    SELECT version, mapping, change_id::int FROM field_mappings WHERE source = ${source} ORDER BY version`;
}

describe('GET /schema-changes', () => {
  test('When loads met changes, then each is listed newest first with its runs, records and suggestion', async () => {
    const res = await request(ctx.app).get('/schema-changes').expect(200);
    expect(res.body.pagination).toEqual({ limit: 50, offset: 0, total: 3 });
    expect(res.body.data.map((c: { id: number }) => c.id)).toEqual([ids.paprikaPrice, ids.volume, ids.price]);
    const [stored] = await ctx.db.sql<{ confidence: string }[]>`SELECT confidence::text FROM schema_changes WHERE id = ${ids.price}`;
    const price = res.body.data.find((c: { id: number }) => c.id === ids.price);
    expect(price).toEqual({
      id: ids.price,
      source: 'coingecko',
      kind: 'required_missing',
      field: 'current_price',
      breaking: true,
      observed_type: null,
      suggested_field: 'current_price_renamed',
      confidence: Number(stored?.confidence),
      evidence: expect.objectContaining({ sameType: true, name: expect.any(Number) }),
      records_affected: renamed.counts.fetched + renamedAgain.counts.fetched,
      first_run_id: renamed.runId,
      last_run_id: renamedAgain.runId,
      first_seen_at: expect.any(String),
      last_seen_at: expect.any(String),
      status: 'open',
      resolution: null,
      resolved_at: null,
      mapping_version: null,
    });
    expect(Date.parse(price.last_seen_at)).toBeGreaterThan(Date.parse(price.first_seen_at));
    expect(price.confidence).toBeGreaterThanOrEqual(0.85);
    const volume = res.body.data.find((c: { id: number }) => c.id === ids.volume);
    expect(volume).toMatchObject({
      kind: 'optional_missing', field: 'total_volume', breaking: false, suggested_field: null, confidence: null,
      records_affected: dropped.counts.fetched, first_run_id: dropped.runId, last_run_id: dropped.runId,
    });
  });

  test('When filtered by source and status, then only the changes that match come back, with their total', async () => {
    const coingecko = await request(ctx.app).get('/schema-changes').query({ source: 'coingecko' }).expect(200);
    expect(coingecko.body.data.map((c: { id: number }) => c.id)).toEqual([ids.volume, ids.price]);
    expect(coingecko.body.pagination.total).toBe(2);
    const paprikaOpen = await request(ctx.app).get('/schema-changes').query({ source: 'coinpaprika', status: 'open' }).expect(200);
    expect(paprikaOpen.body.data).toEqual([expect.objectContaining({ id: ids.paprikaPrice, field: 'quotes.USD.price', suggested_field: 'quotes.USD.price_renamed' })]);
    const accepted = await request(ctx.app).get('/schema-changes').query({ status: 'accepted' }).expect(200);
    expect(accepted.body).toMatchObject({ pagination: { total: 0 }, data: [] });
  });

  test('When paged, then limit and offset slice the list and total counts all of it', async () => {
    const second = await request(ctx.app).get('/schema-changes').query({ limit: '1', offset: '1' }).expect(200);
    expect(second.body.pagination).toEqual({ limit: 1, offset: 1, total: 3 });
    expect(second.body.data.map((c: { id: number }) => c.id)).toEqual([ids.volume]);
    const last = await request(ctx.app).get('/schema-changes').query({ limit: '2', offset: '2' }).expect(200);
    expect(last.body.data.map((c: { id: number }) => c.id)).toEqual([ids.price]);
    const past = await request(ctx.app).get('/schema-changes').query({ offset: '3' }).expect(200);
    expect(past.body).toMatchObject({ pagination: { total: 3 }, data: [] });
  });

  test('When a parameter is bad, then 400 naming it', async () => {
    for (const [query, field] of [
      [{ status: 'closed' }, 'status'],
      [{ source: 'nope' }, 'source'],
      [{ limit: '0' }, 'limit'],
      [{ limit: '501' }, 'limit'],
      [{ offset: '-1' }, 'offset'],
    ] as const) {
      const res = await request(ctx.app).get('/schema-changes').query(query).expect(400);
      expect(res.body.details).toEqual([expect.objectContaining({ field })]);
    }
  });
});

describe('GET /runs/:run_id', () => {
  test('When a run met schema changes, then it lists each with the records of that run that showed it', async () => {
    const res = await request(ctx.app).get(`/runs/${renamed.runId}`).expect(200);
    expect(res.body.status).toBe('degraded');
    expect(res.body.status_reason).toContain('current_price');
    expect(res.body.schema_changes).toEqual([
      {
        id: ids.price, kind: 'required_missing', field: 'current_price', breaking: true,
        suggested_field: 'current_price_renamed', confidence: expect.any(Number), status: 'open',
        records: renamed.counts.fetched,
      },
    ]);
    const again = await request(ctx.app).get(`/runs/${renamedAgain.runId}`).expect(200);
    expect(again.body.schema_changes).toEqual([expect.objectContaining({ id: ids.price, records: renamedAgain.counts.fetched })]);
    const withDrop = await request(ctx.app).get(`/runs/${dropped.runId}`).expect(200);
    expect(withDrop.body.schema_changes).toEqual([
      expect.objectContaining({ id: ids.volume, breaking: false, suggested_field: null, confidence: null, records: dropped.counts.fetched }),
    ]);
  });

  test('When a run met no schema change, then its list is empty', async () => {
    const res = await request(ctx.app).get(`/runs/${baseline.runId}`).expect(200);
    expect(res.body).toMatchObject({ status: 'succeeded', status_reason: null, schema_changes: [] });
  });
});

describe('GET /health and /metrics while changes are open', () => {
  test('When breaking schema changes are open, then /health is 200 degraded, naming each source and field', async () => {
    const res = await healthWithWorker(ctx, bundle);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'degraded', failed: [] });
    expect(res.body.message).toMatch(
      new RegExp(
        `^degraded: coingecko current_price missing; current_price_renamed present \\(confidence 0\\.\\d+\\) \\(open schema change ${ids.price}\\); ` +
          `coinpaprika quotes\\.USD\\.price missing; quotes\\.USD\\.price_renamed present \\(confidence 0\\.\\d+\\) \\(open schema change ${ids.paprikaPrice}\\)$`,
      ),
    );
    expect(res.body.checks.schema_changes).toMatchObject({ status: 'degraded', detail: '2 breaking schema change(s) open' });
    // The non-breaking one (total_volume) holds nothing back and is not listed.
    expect(res.body.checks.schema_changes.open).toEqual([
      expect.objectContaining({ id: ids.price, source: 'coingecko', field: 'current_price', suggested_field: 'current_price_renamed', last_run_id: renamedAgain.runId }),
      expect.objectContaining({ id: ids.paprikaPrice, source: 'coinpaprika', field: 'quotes.USD.price', records_affected: paprikaRenamed.counts.fetched }),
    ]);
  });

  test('When a check fails while a breaking change is open, then the failure wins: 503 and status fail', async () => {
    const app = createApp({ ...ctx.deps, temporal: { ...ctx.deps.temporal, taskQueue: `never-polled-${process.pid}-${Date.now()}` } }).app;
    const res = await request(app).get('/health').expect(503);
    expect(res.body).toMatchObject({ status: 'fail', message: 'unhealthy: worker', failed: ['worker'] });
    expect(res.body.checks.schema_changes.status).toBe('degraded');
  });

  test('When /metrics is scraped, then changes are counted by source and kind, and open ones by breaking', async () => {
    const res = await request(ctx.app).get('/metrics').expect(200);
    const total = (labels: string) => series(res.text, 'kasparro_schema_changes_total', labels);
    const open = (labels: string) => series(res.text, 'kasparro_schema_changes_open', labels);
    expect(total('source="coingecko",kind="required_missing"')).toBe(1);
    expect(total('source="coingecko",kind="optional_missing"')).toBe(1);
    expect(total('source="coinpaprika",kind="required_missing"')).toBe(1);
    expect(total('source="coinpaprika",kind="type_changed"')).toBe(0);
    expect(total('source="csv",kind="new_field"')).toBe(0);
    expect(open('source="coingecko",breaking="true"')).toBe(1);
    expect(open('source="coingecko",breaking="false"')).toBe(1);
    expect(open('source="coinpaprika",breaking="true"')).toBe(1);
    expect(open('source="coinpaprika",breaking="false"')).toBe(0);
    expect(open('source="csv",breaking="true"')).toBe(0);
  });
});

describe('POST /schema-changes/:id/accept and /ignore', () => {
  test('When the X-API-Key is missing or wrong, then 401 and nothing is settled', async () => {
    await request(ctx.app).post(`/schema-changes/${ids.price}/accept`).expect(401);
    await request(ctx.app).post(`/schema-changes/${ids.price}/ignore`).set('X-API-Key', `${KEY}x`).expect(401);
    await request(ctx.app).post('/schema-changes/not-an-id/ignore').expect(401); // the key is checked before the input
    const [row] = await ctx.db.sql<{ status: string }[]>`SELECT status FROM schema_changes WHERE id = ${ids.price}`;
    expect(row?.status).toBe('open');
    const doc = await request(ctx.app).get('/openapi.json').expect(200);
    expect(doc.body.paths['/schema-changes/{id}/accept'].post.security).toEqual([{ ApiKey: [] }]);
    expect(doc.body.paths['/schema-changes/{id}/ignore'].post.security).toEqual([{ ApiKey: [] }]);
    expect(doc.body.paths['/schema-changes'].get.security).toBeUndefined();
  });

  test('When the id or the body is malformed, then 400 naming it', async () => {
    for (const id of ['abc', '0', '-1', '1.5', '9'.repeat(16)]) {
      const res = await accept(id).expect(400);
      expect(res.body.details).toEqual([expect.objectContaining({ field: 'id' })]);
      await ignore(id).expect(400);
    }
    // A CSV header may have spaces and dots (`Vol. 24h`): only blanks, control characters and non-strings are refused.
    for (const from of ['', '   ', 'a\u0000b', 'x'.repeat(201), 5]) {
      const res = await accept(ids.price, { from }).expect(400);
      expect(res.body.details).toEqual([expect.objectContaining({ field: 'from' })]);
    }
    const extra = await accept(ids.price, { to: 'x' }).expect(400);
    expect(extra.body.error).toBe('bad_request');
    await withKey(request(ctx.app).post(`/schema-changes/${ids.price}/accept`)).set('Content-Type', 'application/json').send('{"from":').expect(400);
    const [row] = await ctx.db.sql<{ status: string }[]>`SELECT status FROM schema_changes WHERE id = ${ids.price}`;
    expect(row?.status).toBe('open');
  });

  test('When the change does not exist, then 404', async () => {
    const res = await accept(999_999).expect(404);
    expect(res.body).toMatchObject({ error: 'not_found', message: 'schema change 999999 not found' });
    await ignore(999_999).expect(404);
  });

  test('When no change was accepted yet, then the mapping of a source is version 0 and empty', async () => {
    const res = await request(ctx.app).get('/sources/coingecko/mapping').expect(200);
    expect(res.body).toMatchObject({ source: 'coingecko', version: 0, mapping: {} });
    await request(ctx.app).get('/sources/nope/mapping').expect(400);
  });

  test('When a rename is accepted as suggested, then mapping version 1 maps the field from the suggested one', async () => {
    const res = await accept(ids.price).expect(200);
    expect(res.body).toMatchObject({
      id: ids.price, status: 'accepted', mapping_version: 1,
      resolution: 'current_price mapped from current_price_renamed (mapping v1, by api)',
    });
    expect(Date.parse(res.body.resolved_at)).toBeGreaterThan(0);
    const mapping = await request(ctx.app).get('/sources/coingecko/mapping').expect(200);
    expect(mapping.body).toMatchObject({ source: 'coingecko', version: 1, mapping: { current_price: 'current_price_renamed' } });
    expect(await mappingRows('coingecko')).toEqual([{ version: 1, mapping: { current_price: 'current_price_renamed' }, change_id: ids.price }]);
  });

  test('When a missing field is accepted with a hand-written from, then version 2 keeps version 1 and adds it', async () => {
    const res = await accept(ids.volume, { from: 'volume_total' }).expect(200);
    expect(res.body).toMatchObject({ id: ids.volume, status: 'accepted', mapping_version: 2, resolution: expect.stringContaining('total_volume mapped from volume_total') });
    const both = { current_price: 'current_price_renamed', total_volume: 'volume_total' };
    const mapping = await request(ctx.app).get('/sources/coingecko/mapping').expect(200);
    expect(mapping.body).toMatchObject({ version: 2, mapping: both });
    expect(await mappingRows('coingecko')).toEqual([
      { version: 1, mapping: { current_price: 'current_price_renamed' }, change_id: ids.price },
      { version: 2, mapping: both, change_id: ids.volume },
    ]);
  });

  test('When a change is accepted already, then accepting or ignoring it again is 409 with the reason, and nothing changes', async () => {
    const again = await accept(ids.price).expect(409);
    expect(again.body).toMatchObject({ error: 'conflict', message: expect.stringContaining(`schema change ${ids.price} is accepted already`) });
    const ignored = await ignore(ids.price).expect(409);
    expect(ignored.body.message).toContain('accepted already');
    expect((await mappingRows('coingecko')).map((r) => r.version)).toEqual([1, 2]);
  });

  test('When a change is ignored, then it is settled by api without a mapping, and ignoring it again is 409', async () => {
    const res = await ignore(ids.paprikaPrice).expect(200);
    expect(res.body).toMatchObject({ id: ids.paprikaPrice, status: 'ignored', resolution: 'ignored by api', mapping_version: null });
    const listed = await request(ctx.app).get('/schema-changes').query({ status: 'ignored' }).expect(200);
    expect(listed.body.data.map((c: { id: number }) => c.id)).toEqual([ids.paprikaPrice]);
    expect(await mappingRows('coinpaprika')).toEqual([]);
    const again = await ignore(ids.paprikaPrice).expect(409);
    expect(again.body.message).toContain('ignored already');
  });
});

describe('GET /health and /metrics once changes are settled', () => {
  test('When every breaking change is accepted or ignored, then /health is ok again', async () => {
    const res = await healthWithWorker(ctx, bundle);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', message: 'healthy', failed: [] });
    expect(res.body.checks.schema_changes).toMatchObject({ status: 'ok', open: [], detail: 'no breaking schema change is open' });
  });

  test('When /metrics is scraped, then no change is open and the detected ones are still counted', async () => {
    const res = await request(ctx.app).get('/metrics').expect(200);
    expect(series(res.text, 'kasparro_schema_changes_total', 'source="coingecko",kind="required_missing"')).toBe(1);
    for (const source of ['coingecko', 'coinpaprika']) {
      for (const breaking of ['true', 'false']) {
        expect(series(res.text, 'kasparro_schema_changes_open', `source="${source}",breaking="${breaking}"`)).toBe(0);
      }
    }
  });
});

describe('etl schema-changes', () => {
  let volumeId: number;
  beforeAll(async () => {
    ctx.simulator.setFault({ kind: 'missing-field', source: 'coinpaprika', field: 'quotes.USD.volume_24h', times: Infinity });
    await ingest(ctx.db.sql, ctx.sources, 'coinpaprika');
    ctx.simulator.clearFaults();
    volumeId = await changeId('coinpaprika', 'optional_missing', 'quotes.USD.volume_24h');
  });

  const etl = (...args: string[]) => processes.cliOutput(['schema-changes', ...args], { ...process.env, DATABASE_URL: ctx.db.url, LOG_LEVEL: 'silent' });

  test('When listed, then a table shows the changes the filters match, one a line', async () => {
    const open = await etl('--source', 'coinpaprika', '--status', 'open');
    expect(open).toMatchObject({ code: 0, stderr: '' });
    const [header, ...rows] = open.stdout.trimEnd().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['ID', 'SOURCE', 'KIND', 'FIELD', 'BREAKING', 'SUGGESTED', 'RECORDS', 'STATUS', 'LAST SEEN']);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.split(/\s{2,}/).slice(0, 8)).toEqual([String(volumeId), 'coinpaprika', 'optional_missing', 'quotes.USD.volume_24h', 'no', '-', expect.stringMatching(/^\d+$/), 'open']);

    const all = await etl();
    expect(all.code).toBe(0);
    expect(all.stdout.trimEnd().split('\n')).toHaveLength(1 + 4);
    expect(all.stdout).toContain('current_price_renamed (');
    const none = await etl('--status', 'open', '--source', 'csv');
    expect(none).toMatchObject({ code: 0, stdout: 'no schema changes\n' });
  });

  test('When a change is ignored, then accepted with --from, then each is settled by cli and the mapping written', async () => {
    const ignored = await etl('ignore', String(volumeId));
    expect(ignored).toMatchObject({
      code: 0, stderr: '',
      stdout: `schema change ${volumeId} ignored (coinpaprika optional_missing quotes.USD.volume_24h): ignored by cli\n`,
    });
    const accepted = await etl('accept', String(volumeId), '--from', 'quotes.USD.vol');
    expect(accepted).toMatchObject({ code: 0, stderr: '' });
    expect(accepted.stdout).toBe(
      `schema change ${volumeId} accepted (coinpaprika optional_missing quotes.USD.volume_24h): ` +
        'quotes.USD.volume_24h mapped from quotes.USD.vol (mapping v1, by cli)\n',
    );
    expect(await mappingRows('coinpaprika')).toEqual([{ version: 1, mapping: { 'quotes.USD.volume_24h': 'quotes.USD.vol' }, change_id: volumeId }]);
  });

  test('When the change is unknown, settled already or the command line is wrong, then one line on stderr and exit 2, 3 or 1', async () => {
    expect(await etl('ignore', '999999')).toEqual({ code: 2, stdout: '', stderr: 'schema change 999999 not found\n' });
    const settled = await etl('accept', String(volumeId));
    expect(settled).toMatchObject({ code: 3, stdout: '' });
    expect(settled.stderr).toMatch(new RegExp(`^schema change ${volumeId} is accepted already \\(.*\\)\\n$`));
    for (const args of [['accept', 'abc'], ['accept'], ['ignore', '3', '--from', 'x'], ['--status', 'closed'], ['--source', 'nope'], ['reopen', '3']]) {
      const wrong = await etl(...args);
      expect(wrong).toMatchObject({ code: 1, stdout: '' });
      expect(wrong.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});

test('When all the responses above were served, then each matches openapi.json', () => {
  expect(ctx.responses()).toBeGreaterThan(30);
  expect(ctx.nonConformant()).toEqual([]);
});
