import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import express, { type Express } from 'express';

interface Recorded {
  method: string;
  /** The route's path as declared, or undefined when no route answered (an unknown path). */
  route: string | undefined;
  path: string;
  status: number;
  body: unknown;
}

type Schema = object;
type OpenApi = {
  paths?: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> }>>;
  components?: { schemas?: Record<string, Schema> };
};

/**
 * RFC 3339's date-time, which OpenAPI's `format: date-time` means: `T` between date and time, and `Z` or an offset
 * with its minutes. ajv-formats also lets through PostgreSQL's text of a timestamptz (`2026-01-05 10:00:00+00`),
 * which clients parsing RFC 3339 refuse.
 */
const RFC3339_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function isRfc3339DateTime(text: string): boolean {
  const m = RFC3339_DATE_TIME.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second <= 60;
}

/**
 * Records every JSON response the app sends, then checks each against the response schema the OpenAPI document
 * declares for its route and status: the document is what clients are promised. An error no declared operation
 * answered (an unknown path, a 405 for an undeclared method) must be the document's Error body. HEAD is checked
 * as the GET it runs. createApiContext's close() fails a test file whose responses do not conform, so no file can
 * forget to ask.
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
      if (json && (typeof body === 'string' || Buffer.isBuffer(body))) {
        const method = req.method === 'HEAD' ? 'get' : req.method.toLowerCase();
        recorded.push({ method, route, path: req.path, status: res.statusCode, body: JSON.parse(String(body)) });
      }
      return send(body);
    };
    next();
  });
  wrapper.use(app);
  return {
    app: wrapper,
    count: () => recorded.length,
    check: (openapi) => checkResponses(openapi as OpenApi, recorded),
  };
}

function checkResponses(doc: OpenApi, recorded: Recorded[]): string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: isRfc3339DateTime });
  const errorBody = { $ref: '#/components/schemas/Error' };
  const problems: string[] = [];
  for (const r of recorded) {
    const name = `${r.method.toUpperCase()} ${r.route ?? r.path} ${r.status}`;
    const operation = r.route ? doc.paths?.[r.route.replace(/:(\w+)/g, '{$1}')]?.[r.method] : undefined;
    let schema: Schema | undefined;
    if (operation) schema = operation.responses?.[String(r.status)]?.content?.['application/json']?.schema;
    else if (r.status >= 400) schema = errorBody; // no operation answered: an unknown path, an undeclared method, a path that does not decode
    if (!schema) {
      problems.push(`${name}: not declared in openapi.json`);
      continue;
    }
    const validate = ajv.compile({ ...schema, components: doc.components });
    if (!validate(r.body)) problems.push(`${name}: ${ajv.errorsText(validate.errors)}`);
  }
  return problems;
}
