import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import express, { Router, type Express } from 'express';
import swaggerUi from 'swagger-ui-express';
import { watchQuoteChanges } from '../src/db/change-feed';
import { livePollers } from '../src/temporal/pollers';
import { probeClient } from '../src/temporal/probe';
import type { ApiDeps } from './deps';
import { errorHandler, unknownRoute } from './errors';
import { createMetrics } from './metrics';
import { requestContext } from './middleware/request-context';
import { buildOpenApiDocument } from './openapi';
import { mountRoutes, type Route } from './route';
import { allRoutes } from './routes';
import { assetRoute } from './routes/assets';
import { etlRunRoute } from './routes/etl-run';
import { indexRoute, metricsRoute, openApiRoute } from './routes/meta';

export type { ApiDeps } from './deps';

/**
 * The Express app, built apart from listen() so tests drive it with supertest. With the read cache on, it listens
 * for quote changes on a connection of its own; its health checks reach Temporal on another (opened on first use);
 * close() ends both.
 */
export function createApp(deps: ApiDeps): { app: Express; openapi: ReturnType<typeof buildOpenApiDocument>; close(): Promise<void> } {
  const probe = probeClient(deps.temporal.client);
  const metrics = createMetrics(deps.sql, {
    name: deps.temporal.taskQueue,
    pollers: async () => (await livePollers(probe.client, { ...deps.temporal, timeoutMs: 2_000 })).length,
  });
  const changes = deps.readCacheMs > 0 ? watchQuoteChanges(deps.sql, deps.log) : undefined;
  const routes = [
    ...allRoutes(deps, { changes, probe: probe.client }),
    assetRoute(deps.sql, deps.readCacheMs, changes),
    etlRunRoute(deps),
    metricsRoute(metrics.registry),
    openApiRoute(() => openapi),
  ] as Route<never, never, never>[];
  const endpoints = routes.map((r) => ({ method: r.method.toUpperCase(), path: r.path, summary: r.summary }));
  routes.unshift(indexRoute(deps, () => endpoints) as Route<never, never, never>);

  const registry = new OpenAPIRegistry();
  const router = Router();
  mountRoutes(router, registry, routes);
  // Read by the /openapi.json route at request time, once every route is registered.
  const openapi = buildOpenApiDocument(registry, deps.version);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // a SHA-1 of every body, for clients that never send If-None-Match
  app.set('query parser', 'simple');
  app.use(requestContext(deps.log));
  app.use(metrics.observeHttp);
  app.use(router);
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(openapi));
  app.use(unknownRoute);
  app.use(errorHandler);
  return {
    app,
    openapi,
    async close() {
      await changes?.close();
      await probe.close();
    },
  };
}
