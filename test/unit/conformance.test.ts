import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import express, { Router } from 'express';
import request from 'supertest';
import { errorHandler, unknownRoute } from '../../api/errors';
import { buildOpenApiDocument } from '../../api/openapi';
import { defineRoute, mountRoutes, type Route } from '../../api/route';
import { nullableTimestamp, timestamp } from '../../api/schemas-runs';
import { z } from '../../api/zod';
import { isRfc3339DateTime, recordResponses } from '../support/conformance';

/**
 * The conformance check itself (test/support/conformance.ts), on an app made with the API's own route machinery,
 * whose one route answers whatever body the test gives it.
 */
function appAnswering(body: unknown) {
  const Thing = z.object({ started_at: timestamp, finished_at: nullableTimestamp, note: z.string().nullable() }).openapi('Thing');
  const route = defineRoute({
    method: 'get',
    path: '/things/:id',
    summary: 'one thing',
    tags: ['test'],
    params: z.object({ id: z.string() }),
    responses: { 200: { description: 'the thing', schema: Thing } },
    handler: async () => ({ status: 200, body }),
  });
  const registry = new OpenAPIRegistry();
  const router = Router();
  mountRoutes(router, registry, [route] as Route<never, never, never>[]);
  const app = express().use(router).use(unknownRoute).use(errorHandler);
  return { recorder: recordResponses(app), openapi: buildOpenApiDocument(registry, 'test') };
}

const good = { started_at: new Date('2026-01-05T10:00:00.123Z'), finished_at: null, note: null };

describe('the OpenAPI conformance check', () => {
  test('When every response matches its schema, then it reports nothing, HEAD, 404 and 405 included', async () => {
    const { recorder, openapi } = appAnswering(good);
    await request(recorder.app).get('/things/1').expect(200);
    await request(recorder.app).head('/things/1').expect(200);
    await request(recorder.app).get('/nothing').expect(404);
    await request(recorder.app).delete('/things/1').expect(405);
    expect(recorder.count()).toBe(4);
    expect(recorder.check(openapi)).toEqual([]);
  });

  test('When a timestamp declared not nullable is served as null, then it is reported', async () => {
    // `timestamp.nullable()` documented `type: string` for a value that was null while a run ran: the gap this closes.
    const { recorder, openapi } = appAnswering({ ...good, started_at: null });
    await request(recorder.app).get('/things/1').expect(200);
    expect(recorder.check(openapi)).toEqual([expect.stringMatching(/^GET \/things\/:id 200: .*started_at must be string/)]);
  });

  test.each([
    ['PostgreSQL text of a timestamptz', '2026-01-05 10:00:00.123+00'],
    ['an offset without minutes', '2026-01-05T10:00:00+00'],
    ['a day that does not exist', '2026-02-30T10:00:00Z'],
    ['a date without a time', '2026-01-05'],
    ['epoch milliseconds as text', '1767607200000'],
  ])('When a date-time is served as %s, then it is reported', async (_what, value) => {
    const { recorder, openapi } = appAnswering({ ...good, finished_at: value });
    await request(recorder.app).get('/things/1').expect(200);
    expect(recorder.check(openapi)).toEqual([expect.stringMatching(/finished_at must match format "date-time"/)]);
  });

  test('When a status or a body is not what the document declares, then it is reported, for HEAD as for GET', async () => {
    const { recorder, openapi } = appAnswering({ started_at: 'x' });
    await request(recorder.app).head('/things/1').expect(200);
    await request(recorder.app).get('/things/%FF').expect(400); // declared by mountRoute for every route with input
    const problems = recorder.check(openapi);
    expect(problems).toEqual([expect.stringMatching(/^GET \/things\/:id 200: .*must have required property 'finished_at'/)]);
  });

  test('When a date-time is RFC 3339, then the check accepts it', () => {
    for (const ok of ['2026-01-05T10:00:00Z', '2026-01-05T10:00:00.123456+05:30', '2024-02-29t23:59:60z']) expect([ok, isRfc3339DateTime(ok)]).toEqual([ok, true]);
  });
});
