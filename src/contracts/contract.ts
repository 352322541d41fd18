import { z } from 'zod';
import { getPath } from './mapping';
import type { Source } from '../sources/types';

/** The JSON types a profile tells apart. Integers are numbers: JSON does not distinguish them. */
export const JSON_TYPES = ['string', 'number', 'boolean', 'null', 'object', 'array'] as const;
export type JsonType = (typeof JSON_TYPES)[number];

/** One field a source reads: its dotted path in the raw record, the JSON types it may have, and whether it must be there. */
export interface ContractField {
  path: string;
  types: JsonType[];
  /** Present (and not null unless `types` says so) in every record the source can load. */
  required: boolean;
  /**
   * A column of a table (a CSV file) rather than a key of a JSON record: every header name the source reads as
   * this field, compared after normalizeHeader(), first match wins; `path` is one of them. Any of them present
   * is the field present, and a contract with columns has a column order (drift: `columns_reordered`).
   */
  aliases?: readonly string[];
}

/**
 * A field's value in one record, found as drift detection finds it: by path, or for a table's column by the
 * first of its aliases the row's header has. Undefined when the record does not have it.
 */
export function fieldValue(payload: unknown, field: ContractField): unknown {
  if (!field.aliases) return getPath(payload, field.path);
  if (typeof payload !== 'object' || payload === null) return undefined;
  const byHeader = new Map(Object.entries(payload).map(([header, value]) => [normalizeHeader(header), value]));
  for (const alias of field.aliases) if (byHeader.has(alias)) return byHeader.get(alias);
  return undefined;
}

/** A header cell as a table's contract compares it: case, spaces, symbols and punctuation collapse to snake_case. */
export function normalizeHeader(header: string): string {
  return header
    .trim()
    .toLowerCase()
    .replace(/[%#]/g, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
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

const derived = new WeakMap<Source, readonly ContractField[]>();

/**
 * The contract a source's loads are checked against: the one it declares (tables, which have no record
 * schema), else the one derived from its record schema, derived once per source. Undefined for a source with
 * neither: nothing to check.
 */
export function sourceContract(source: Source): readonly ContractField[] | undefined {
  if (source.contract) return source.contract;
  if (!source.recordSchema) return undefined;
  let contract = derived.get(source);
  if (!contract) derived.set(source, (contract = contractOf(source.recordSchema)));
  return contract;
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
