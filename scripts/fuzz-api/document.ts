import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FuzzStack } from './stack';

/**
 * Links between operations for Schemathesis's stateful phase: which response value feeds which parameter of
 * the next call. The API's document declares none (it describes each operation on its own), so they are added
 * here, to the document as the API serves it, and to nothing else. Schemathesis infers a few more by itself.
 */
interface Link {
  from: { path: string; method: 'get' | 'post'; status: number };
  to: { path: string; method: 'get' | 'post' };
  /** Target parameter → OpenAPI runtime expression. */
  parameters: Record<string, string>;
}

const firstRun = '$response.body#/data/0/run_id';
const LINKS: Link[] = [
  { from: { path: '/runs', method: 'get', status: 200 }, to: { path: '/runs/{run_id}', method: 'get' }, parameters: { run_id: firstRun } },
  {
    from: { path: '/runs', method: 'get', status: 200 },
    to: { path: '/compare-runs', method: 'get' },
    parameters: { run_id_1: '$response.body#/data/1/run_id', run_id_2: firstRun },
  },
  {
    from: { path: '/etl/run', method: 'post', status: 202 },
    to: { path: '/runs/{run_id}', method: 'get' },
    parameters: { run_id: '$response.body#/runs/0/run_id' },
  },
  {
    from: { path: '/health', method: 'get', status: 200 },
    to: { path: '/runs/{run_id}', method: 'get' },
    parameters: { run_id: '$response.body#/last_runs/0/run_id' },
  },
  // The next page. The sort and filters it must be sent with are drawn afresh: the same ones page on, others are a 400.
  {
    from: { path: '/data', method: 'get', status: 200 },
    to: { path: '/data', method: 'get' },
    parameters: { cursor: '$response.body#/pagination/next_cursor' },
  },
  {
    from: { path: '/data', method: 'get', status: 200 },
    to: { path: '/assets/{asset_id}', method: 'get' },
    parameters: { asset_id: '$response.body#/data/0/asset_id' },
  },
  {
    from: { path: '/assets/{asset_id}', method: 'get', status: 200 },
    to: { path: '/data', method: 'get' },
    parameters: { asset_id: '$response.body#/asset_id', from: '2000-01-01T00:00:00Z' },
  },
  ...(['accept', 'ignore'] as const).map((action): Link => ({
    from: { path: '/schema-changes', method: 'get', status: 200 },
    to: { path: `/schema-changes/{id}/${action}`, method: 'post' },
    parameters: { id: '$response.body#/data/0/id' },
  })),
  {
    from: { path: '/schema-changes', method: 'get', status: 200 },
    to: { path: '/runs/{run_id}', method: 'get' },
    parameters: { run_id: '$response.body#/data/0/last_run_id' },
  },
  ...(['accept', 'ignore'] as const).map((action): Link => ({
    from: { path: `/schema-changes/{id}/${action}`, method: 'post', status: 200 },
    to: { path: '/sources/{source}/mapping', method: 'get' },
    parameters: { source: '$response.body#/source' },
  })),
];

type Document = { paths: Record<string, Record<string, { responses: Record<string, { links?: Record<string, unknown> }> }>> };

/** A JSON pointer to an operation, as `operationRef` takes it: `#/paths/~1runs~1{run_id}/get`. */
const operationRef = (path: string, method: string) => `#/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}`;

/**
 * The document the API serves at /openapi.json, with LINKS added, written to `dir/openapi.json` for Schemathesis.
 * Throws when a link names an operation or response the document does not have, so a renamed route fails loudly
 * instead of silently dropping its links.
 */
export async function documentWithLinks(stack: FuzzStack, dir: string): Promise<string> {
  const res = await fetch(`${stack.apiUrl}/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /openapi.json: ${res.status}`);
  const document = (await res.json()) as Document;
  for (const link of LINKS) {
    const response = document.paths[link.from.path]?.[link.from.method]?.responses[String(link.from.status)];
    if (!response || !document.paths[link.to.path]?.[link.to.method]) {
      throw new Error(`a link names what /openapi.json does not have: ${JSON.stringify(link)}`);
    }
    const name = `${link.to.method.toUpperCase()} ${link.to.path}`;
    response.links = { ...response.links, [name]: { operationRef: operationRef(link.to.path, link.to.method), parameters: link.parameters } };
  }
  const file = join(dir, 'openapi.json');
  await writeFile(file, JSON.stringify(document, null, 2));
  return file;
}

/**
 * Values that exist, for the fuzzer to mix in with the ones it makes up (schemathesis.toml, [dictionaries]):
 * without them almost every run id, asset id or change id it generates is a 404, and /compare-runs never
 * compares anything. One libFuzzer-style dictionary file per kind of value.
 */
export async function writeDictionaries(stack: FuzzStack, dir: string): Promise<void> {
  const { sql } = stack;
  const kinds: Record<string, string[]> = {
    'run-ids': (await sql<{ v: string }[]>`SELECT run_id AS v FROM etl_runs ORDER BY started_at`).map((r) => r.v),
    'asset-ids': (await sql<{ v: string }[]>`SELECT asset_id::text AS v FROM assets ORDER BY asset_id LIMIT 50`).map((r) => r.v),
    'change-ids': (await sql<{ v: string }[]>`SELECT id::text AS v FROM schema_changes ORDER BY id`).map((r) => r.v),
    symbols: (await sql<{ v: string }[]>`SELECT DISTINCT symbol AS v FROM assets ORDER BY 1 LIMIT 50`).map((r) => r.v),
  };
  for (const [kind, values] of Object.entries(kinds)) {
    if (!values.length) throw new Error(`no ${kind} in the loaded data`);
    await writeFile(join(dir, `${kind}.dict`), values.map((v) => `${JSON.stringify(v)}\n`).join(''));
  }
}
