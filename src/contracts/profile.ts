import type { JsonType } from './contract';

/** What a batch's records show of one leaf field. */
export interface FieldProfile {
  path: string;
  /** Records that have the field at all (its value may be null). */
  present: number;
  /** Records per JSON type of the value. */
  types: Partial<Record<JsonType, number>>;
  /** Values that were "" or only spaces. */
  empty: number;
  /** Smallest and largest numeric value, for telling a renamed field's values from an unrelated one's. */
  min?: number;
  max?: number;
  /** Total length of the string values, for their mean length. */
  stringLength: number;
}

export interface BatchProfile {
  records: number;
  fields: Map<string, FieldProfile>;
}

/** Objects nested deeper than this are profiled as one field: upstream records are shallow. */
const MAX_DEPTH = 6;

/**
 * One pass over raw records: which leaf paths occur, with which JSON types, how often null or empty. Arrays are
 * leaves (their items are not profiled). Costs a walk of each record's keys, nothing per batch beyond the map.
 */
export function profileRecords(payloads: Iterable<unknown>): BatchProfile {
  const fields = new Map<string, FieldProfile>();
  let records = 0;
  for (const payload of payloads) {
    records += 1;
    visit(payload, '', 0, fields);
  }
  return { records, fields };
}

function visit(value: unknown, path: string, depth: number, fields: Map<string, FieldProfile>): void {
  if (isPlainObject(value) && depth < MAX_DEPTH && (path === '' || Object.keys(value).length > 0)) {
    for (const [key, child] of Object.entries(value)) visit(child, path ? `${path}.${key}` : key, depth + 1, fields);
    return;
  }
  if (path === '') return; // a record that is not an object has no fields
  let field = fields.get(path);
  if (!field) {
    field = { path, present: 0, types: {}, empty: 0, stringLength: 0 };
    fields.set(path, field);
  }
  field.present += 1;
  const type = jsonTypeOf(value);
  field.types[type] = (field.types[type] ?? 0) + 1;
  if (type === 'string') {
    const text = value as string;
    field.stringLength += text.length;
    if (text.trim() === '') field.empty += 1;
  } else if (type === 'number') {
    const n = value as number;
    field.min = field.min === undefined ? n : Math.min(field.min, n);
    field.max = field.max === undefined ? n : Math.max(field.max, n);
  }
}

export function jsonTypeOf(value: unknown): JsonType {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
    case 'bigint':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return 'object';
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The most frequent non-null type of a field, if it has any non-null value. */
export function dominantType(field: FieldProfile): JsonType | undefined {
  let best: JsonType | undefined;
  let count = 0;
  for (const [type, n] of Object.entries(field.types) as [JsonType, number][]) {
    if (type !== 'null' && n > count) [best, count] = [type, n];
  }
  return best;
}
