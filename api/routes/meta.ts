import type { Registry } from 'prom-client';
import type { ApiDeps } from '../deps';
import { defineRoute } from '../route';
import { z } from '../zod';

const ServiceIndex = z
  .object({
    service: z.string(),
    version: z.string(),
    endpoints: z.array(z.object({ method: z.string(), path: z.string(), summary: z.string() })),
    links: z.object({ docs: z.string(), openapi: z.string(), temporal_web_ui: z.string() }),
  })
  .openapi('ServiceIndex');

export function indexRoute(deps: ApiDeps, endpoints: () => { method: string; path: string; summary: string }[]) {
  return defineRoute({
    method: 'get',
    path: '/',
    summary: 'Service name, version, endpoints and links',
    tags: ['meta'],
    responses: { 200: { description: 'the service index', schema: ServiceIndex } },
    async handler() {
      return {
        status: 200,
        body: {
          service: 'kasparro-etl',
          version: deps.version,
          endpoints: endpoints(),
          links: { docs: '/docs', openapi: '/openapi.json', temporal_web_ui: deps.temporal.webUiUrl },
        },
      };
    },
  });
}

export function metricsRoute(registry: Registry) {
  return defineRoute({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics: records and runs by source, run durations, HTTP latency, process',
    tags: ['meta'],
    responses: { 200: { description: 'Prometheus text format', schema: z.string(), contentType: 'text/plain' } },
    async handler() {
      return { status: 200, body: await registry.metrics(), contentType: registry.contentType };
    },
  });
}

export function openApiRoute(document: () => unknown) {
  return defineRoute({
    method: 'get',
    path: '/openapi.json',
    summary: 'This OpenAPI document (generated from the zod schemas that validate requests and shape responses)',
    tags: ['meta'],
    responses: { 200: { description: 'OpenAPI 3.1', schema: z.record(z.string(), z.unknown()) } },
    async handler() {
      return { status: 200, body: document() };
    },
  });
}
