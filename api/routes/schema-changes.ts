import type { Request } from 'express';
import { fieldNameProblem } from '../../src/contracts/mapping';
import { acceptSchemaChange, currentMapping, ignoreSchemaChange, type Settlement } from '../../src/db/field-mappings';
import { getSchemaChange, listSchemaChanges } from '../../src/db/schema-change-queries';
import type { Sql } from '../../src/db/sql';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { requireApiKey } from '../middleware/api-key';
import { envelope, pageBody } from '../middleware/request-context';
import { defineRoute, type RouteResult } from '../route';
import { Envelope, pageQuery, Pagination, sourceParam } from '../schemas';
import { SchemaChange, SchemaChangeStatus, schemaChangeIdParam } from '../schemas-schema-changes';
import { z } from '../zod';

/** Data contracts: the changes of shape recorded in each source's upstream, settling them, and the mappings that produces. */

export const SchemaChangesQuery = z.object({
  source: sourceParam.optional(),
  status: SchemaChangeStatus.optional(),
  ...pageQuery({ default: 50, max: 500 }),
});

export const SchemaChangesResponse = Envelope.extend({
  pagination: Pagination,
  data: z.array(SchemaChange),
}).openapi('SchemaChangePage');

const ChangeParams = z.object({ id: schemaChangeIdParam });

/** An upstream field: a dotted path like the contract's (`quotes.USD.price`), or a CSV header as spelled. */
const fieldPath = z.string().superRefine((name, ctx) => {
  const problem = fieldNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const AcceptRequest = z
  .object({
    from: fieldPath.optional().openapi({
      description: 'map the missing field from this upstream field (a mapping written by hand) instead of the suggested rename',
      example: 'currentPrice',
    }),
  })
  .strict()
  .openapi('SchemaChangeAccept');

const SettledResponse = Envelope.extend(SchemaChange.shape).openapi('SchemaChangeSettled');

export const SourceMappingResponse = Envelope.extend({
  source: z.string(),
  version: z.number().int().openapi({ description: '0 before any mapping was written' }),
  mapping: z.record(z.string(), z.string()).openapi({
    description: '{ contract field: upstream field }, applied to every record before it is checked and normalized',
    example: { current_price: 'current_price_renamed' },
  }),
}).openapi('FieldMapping');

export function schemaChangesRoute(sql: Sql) {
  return defineRoute({
    method: 'get',
    path: '/schema-changes',
    summary: "Changes of shape recorded in the sources' upstreams, newest first",
    tags: ['data contracts'],
    query: SchemaChangesQuery,
    responses: { 200: { description: 'a page of schema changes', schema: SchemaChangesResponse }, 400: { description: 'bad parameter' } },
    async handler({ query, req }) {
      return { status: 200, body: pageBody(req, query, await listSchemaChanges(sql, query)) };
    },
  });
}

const settleResponses = {
  200: { description: 'the change, settled', schema: SettledResponse },
  400: { description: 'malformed id or body' },
  401: { description: 'missing or wrong X-API-Key' },
  404: { description: 'no such schema change' },
  409: { description: 'settled already, or nothing to map the field from: the message says which' },
};

export function acceptSchemaChangeRoute(deps: ApiDeps) {
  return defineRoute({
    method: 'post',
    path: '/schema-changes/:id/accept',
    summary: 'Accept a schema change: a missing field is mapped from `from`, or else from its suggested rename (a new mapping version)',
    tags: ['data contracts'],
    params: ChangeParams,
    body: AcceptRequest,
    guard: (req) => requireApiKey(req, deps.apiKey),
    responses: settleResponses,
    async handler({ params, body, req }) {
      return settled(deps, params.id, await acceptSchemaChange(deps.sql, { id: params.id, from: body.from, by: 'api' }), req);
    },
  });
}

export function ignoreSchemaChangeRoute(deps: ApiDeps) {
  return defineRoute({
    method: 'post',
    path: '/schema-changes/:id/ignore',
    summary: 'Ignore a schema change: it stays recorded, no longer degrades /health, and later sightings stay ignored',
    tags: ['data contracts'],
    params: ChangeParams,
    guard: (req) => requireApiKey(req, deps.apiKey),
    responses: settleResponses,
    async handler({ params, req }) {
      return settled(deps, params.id, await ignoreSchemaChange(deps.sql, { id: params.id, by: 'api' }), req);
    },
  });
}

/** The change as it stands once settled; 404 when there was no such change to settle. */
async function settled(deps: ApiDeps, id: number, settlement: Settlement | undefined, req: Request): Promise<RouteResult> {
  const change = settlement && (await getSchemaChange(deps.sql, id));
  if (!change) throw notFound(`schema change ${id}`);
  return { status: 200, body: { ...envelope(req), ...change } };
}

export function sourceMappingRoute(sql: Sql) {
  return defineRoute({
    method: 'get',
    path: '/sources/:source/mapping',
    summary: "A source's current field mapping, written by accepted renames",
    tags: ['data contracts'],
    params: z.object({ source: sourceParam }),
    responses: { 200: { description: 'the newest mapping version', schema: SourceMappingResponse }, 400: { description: 'unknown source' } },
    async handler({ params, req }) {
      const { version, mapping } = await currentMapping(sql, params.source);
      return { status: 200, body: { ...envelope(req), source: params.source, version, mapping } };
    },
  });
}
