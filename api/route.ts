import type { OpenAPIRegistry, ResponseConfig } from '@asteasolutions/zod-to-openapi';
import type { Request, Response, Router } from 'express';
import type { ZodType } from 'zod';
import { ErrorBody } from './errors';

/**
 * How every endpoint is declared: its input schemas and its responses, from which both the request parsing
 * and the OpenAPI document are made, and a handler that receives parsed input and returns the body.
 */
export interface Route<Q = unknown, P = unknown, B = unknown> {
  method: 'get' | 'post';
  /** Express syntax (`/runs/:run_id`); OpenAPI's `{run_id}` is derived. */
  path: string;
  summary: string;
  tags: string[];
  query?: ZodType<Q>;
  params?: ZodType<P>;
  body?: ZodType<B>;
  /** Response schemas by status. Error statuses share the Error body. */
  responses: Record<number, { description: string; schema?: ZodType; contentType?: string }>;
  /** Runs before the input is parsed (authentication): a caller without access learns nothing from a 400. */
  guard?(req: Request): void;
  handler(input: { query: Q; params: P; body: B; req: Request; res: Response }): Promise<RouteResult>;
}

export type RouteResult = { status: number; body: unknown; contentType?: string };

export function defineRoute<Q, P, B>(route: Route<Q, P, B>): Route<Q, P, B> {
  return route;
}

export function mountRoute(router: Router, registry: OpenAPIRegistry, route: Route<never, never, never>): void {
  const r = route as unknown as Route;
  registry.registerPath({
    method: r.method,
    path: r.path.replace(/:(\w+)/g, '{$1}'),
    summary: r.summary,
    tags: r.tags,
    ...(r.guard ? { security: [{ ApiKey: [] }] } : {}),
    request: {
      ...(r.query ? { query: r.query as never } : {}),
      ...(r.params ? { params: r.params as never } : {}),
      ...(r.body ? { body: { content: { 'application/json': { schema: r.body } } } } : {}),
    },
    responses: Object.fromEntries(
      Object.entries(r.responses).map(([status, response]): [string, ResponseConfig] => [
        status,
        {
          description: response.description,
          content: {
            [response.contentType ?? 'application/json']: { schema: response.schema ?? (Number(status) >= 400 ? ErrorBody : {}) },
          },
        },
      ]),
    ),
  });
  router[r.method](r.path, async (req, res) => {
    r.guard?.(req);
    const result = await r.handler({
      query: r.query ? r.query.parse(req.query) : undefined,
      params: r.params ? r.params.parse(req.params) : undefined,
      body: r.body ? r.body.parse(req.body ?? {}) : undefined,
      req,
      res,
    });
    if (result.contentType) res.status(result.status).type(result.contentType).send(result.body);
    else res.status(result.status).json(result.body);
  });
}
