import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import express, { type Express } from 'express';

interface Recorded {
  method: string;
  route: string;
  status: number;
  body: unknown;
}

type OpenApi = { paths?: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: object }> }> }>>; components?: { schemas?: Record<string, object> } };

/**
 * Records every JSON response the app sends during a test file, then checks each against the response schema
 * the OpenAPI document declares for its route and status: the document is what clients are promised.
 */
export function recordResponses(app: Express): { app: Express; check(openapi: unknown): string[]; count(): number } {
  const recorded: Recorded[] = [];
  const wrapper = express();
  wrapper.use((req, res, next) => {
    // Every JSON body passes through send() as text, whether from res.json() or sent pre-serialized (/data).
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      const route = (req.route as { path?: string } | undefined)?.path;
      const json = /^application\/json/.test(String(res.get('Content-Type')));
      if (route && json && (typeof body === 'string' || Buffer.isBuffer(body))) {
        recorded.push({ method: req.method.toLowerCase(), route, status: res.statusCode, body: JSON.parse(String(body)) });
      }
      return send(body);
    };
    next();
  });
  wrapper.use(app);
  return {
    app: wrapper,
    count: () => recorded.length,
    check(openapi) {
      const doc = openapi as OpenApi;
      const ajv = new Ajv2020({ strict: false, allErrors: true });
      addFormats(ajv);
      const problems: string[] = [];
      for (const r of recorded) {
        const path = r.route.replace(/:(\w+)/g, '{$1}');
        const responses = doc.paths?.[path]?.[r.method]?.responses;
        const schema = responses?.[String(r.status)]?.content?.['application/json']?.schema;
        if (!schema) {
          problems.push(`${r.method.toUpperCase()} ${r.route} ${r.status}: not declared in openapi.json`);
          continue;
        }
        const validate = ajv.compile({ ...schema, components: doc.components });
        if (!validate(r.body)) {
          problems.push(`${r.method.toUpperCase()} ${r.route} ${r.status}: ${ajv.errorsText(validate.errors)}`);
        }
      }
      return problems;
    },
  };
}
