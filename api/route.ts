import type { OpenAPIRegistry, ResponseConfig } from '@asteasolutions/zod-to-openapi';
import type { Request, RequestHandler, Response, Router } from 'express';
import type { ZodType } from 'zod';
import { ErrorBody, HttpError, methodNotAllowed } from './errors';
import { jsonBody } from './middleware/json-body';
import { unstorableText } from './zod';

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

/**
 * Mounts every route, then, for each of their paths, OPTIONS (204 and `Allow`) and a 405 with `Allow` for
 * any other method, a JSON error like the rest. HEAD is answered wherever GET is (Express runs the GET handler).
 */
export function mountRoutes(router: Router, registry: OpenAPIRegistry, routes: Route<never, never, never>[]): void {
  const methods = new Map<string, string[]>();
  for (const route of routes) {
    mountRoute(router, registry, route);
    const declared = route.method === 'get' ? ['GET', 'HEAD'] : [route.method.toUpperCase()];
    methods.set(route.path, [...(methods.get(route.path) ?? []), ...declared]);
  }
  for (const [path, declared] of methods) {
    const allow = [...declared, 'OPTIONS'].join(', ');
    router.options(path, (_req, res) => {
      res.set('Allow', allow).status(204).end();
    });
    router.all(path, (req, res, next) => {
      res.set('Allow', allow);
      next(methodNotAllowed(req.method, req.path, allow));
    });
  }
}

/**
 * What every route may answer whatever it declares: a 400 where it takes input, 413 and 415 where it reads a body,
 * and 431 anywhere (api/client-errors.ts).
 */
const SHARED_RESPONSES: { when(route: Route): boolean; status: number; description: string }[] = [
  { when: (r) => Boolean(r.query || r.params || r.body), status: 400, description: 'bad parameter' },
  { when: (r) => r.method === 'post', status: 413, description: 'body over 64 KB' },
  { when: (r) => r.method === 'post', status: 415, description: 'a body that is not sent as application/json' },
  { when: () => true, status: 431, description: 'request line and headers over 16 KB (a query string that long, say)' },
];

function mountRoute(router: Router, registry: OpenAPIRegistry, route: Route<never, never, never>): void {
  const r = route as unknown as Route;
  const responses: Route['responses'] = { ...r.responses };
  for (const shared of SHARED_RESPONSES) if (shared.when(r)) responses[shared.status] ??= { description: shared.description };
  registry.registerPath({
    method: r.method,
    path: r.path.replace(/:(\w+)/g, '{$1}'),
    summary: r.summary,
    tags: r.tags,
    ...(r.guard ? { security: [{ ApiKey: [] }] } : {}),
    request: {
      ...(r.query ? { query: r.query as never } : {}),
      ...(r.params ? { params: r.params as never } : {}),
      ...(r.body
        ? {
            // Sent without a body, a request is read as `{}`: the body is required only where `{}` is not valid.
            body: r.body.safeParse({}).success
              ? { required: false, description: 'optional: a request without a body reads as `{}`', content: { 'application/json': { schema: r.body } } }
              : { required: true, content: { 'application/json': { schema: r.body } } },
          }
        : {}),
    },
    responses: Object.fromEntries(
      Object.entries(responses).map(([status, response]): [string, ResponseConfig] => [
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
  const guard: RequestHandler = (req, _res, next) => {
    r.guard?.(req);
    next();
  };
  router[r.method](r.path, guard, ...(r.method === 'post' ? jsonBody() : []), async (req, res) => {
    const result = await r.handler({ ...parseInput(r, req), req, res });
    if (result.contentType) res.status(result.status).type(result.contentType).send(result.body);
    else res.status(result.status).json(result.body);
  });
}

/**
 * The route's input, parsed by its schemas. Text PostgreSQL cannot store is refused first, in every input a
 * route declares, naming the field: a NUL byte would otherwise pass the schemas and fail in the database.
 */
function parseInput(r: Route, req: Request): { query: unknown; params: unknown; body: unknown } {
  const body: unknown = req.body ?? {};
  const unstorable = [
    ...(r.query ? unstorableText(req.query) : []),
    ...(r.params ? unstorableText(req.params) : []),
    ...(r.body ? unstorableText(body) : []),
  ];
  if (unstorable.length) {
    throw new HttpError(400, 'bad_request', unstorable.map((u) => `${u.field}: ${u.reason}`).join('; '), unstorable);
  }
  return {
    query: r.query ? r.query.parse(req.query) : undefined,
    params: r.params ? r.params.parse(req.params) : undefined,
    body: r.body ? r.body.parse(body) : undefined,
  };
}
