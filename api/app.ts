import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import express, { Router, type Express } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { ApiDeps } from './deps';
import { errorHandler, unknownRoute } from './errors';
import { requestContext } from './middleware/request-context';
import { buildOpenApiDocument } from './openapi';
import { mountRoute } from './route';
import { allRoutes } from './routes';

export type { ApiDeps } from './deps';

/** The Express app, built apart from listen() so tests drive it with supertest. */
export function createApp(deps: ApiDeps): { app: Express; openapi: ReturnType<typeof buildOpenApiDocument> } {
  const registry = new OpenAPIRegistry();
  const router = Router();
  for (const route of allRoutes(deps)) mountRoute(router, registry, route);
  const openapi = buildOpenApiDocument(registry, deps.version);

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestContext(deps.log));
  app.use(express.json({ limit: '64kb' }));
  app.use(router);
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(openapi));
  app.use(unknownRoute);
  app.use(errorHandler);
  return { app, openapi };
}
