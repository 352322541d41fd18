import { z } from 'zod';

/** The JSON types a profile tells apart. Integers are numbers: JSON does not distinguish them. */
export const JSON_TYPES = ['string', 'number', 'boolean', 'null', 'object', 'array'] as const;
export type JsonType = (typeof JSON_TYPES)[number];

/** One field a source reads: its dotted path in the raw record, the JSON types it may have, and whether it must be there. */
export interface ContractField {
  path: string;
  types: JsonType[];
  /** Present (and not null unless `types` says so) in every record the source can load. */
  required: boolean;
}

interface JsonSchemaNode {
  type?: string | string[];
  const?: unknown;
  anyOf?: JsonSchemaNode[];
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
}

/**
 * The contract of a source: the leaf fields its zod record schema reads, derived from that schema (through
 * zod's JSON Schema, as a client would read it), so the declaration is written once. A field under an
 * optional object is optional. Objects are not fields themselves: a vanished object shows as its leaves missing.
 */
export function contractOf(schema: z.ZodType): ContractField[] {
  const fields: ContractField[] = [];
  walk(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode, '', true, fields);
  return fields;
}

function walk(node: JsonSchemaNode, path: string, required: boolean, out: ContractField[]): void {
  const types = typesOf(node);
  if (node.properties && types.length === 1 && types[0] === 'object') {
    const mandatory = new Set(node.required ?? []);
    for (const [key, child] of Object.entries(node.properties)) {
      walk(child, path ? `${path}.${key}` : key, required && mandatory.has(key), out);
    }
    return;
  }
  out.push({ path, types, required });
}

function typesOf(node: JsonSchemaNode): JsonType[] {
  // "" allowed as "unknown" (src/sources/numbers.ts) is a missing value, as profiles count blanks, not text.
  if (node.const === '') return ['null'];
  const raw = node.anyOf ? node.anyOf.flatMap(typesOf) : [node.type ?? []].flat();
  const types = raw.map((t) => (t === 'integer' ? 'number' : t)).filter((t): t is JsonType => (JSON_TYPES as readonly string[]).includes(t));
  return [...new Set(types)];
}
