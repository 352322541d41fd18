import { OpenApiGeneratorV31, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';

/** The OpenAPI document, generated from the same zod schemas that parse requests and shape responses. */
export function buildOpenApiDocument(registry: OpenAPIRegistry, version: string) {
  registry.registerComponent('securitySchemes', 'ApiKey', { type: 'apiKey', in: 'header', name: 'X-API-Key' });
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'kasparro-etl',
      version,
      description: 'Unified crypto market data from CoinGecko, CoinPaprika and CSV files, and the ETL runs that load it.',
    },
  });
}
