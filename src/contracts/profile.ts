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
  /**
   * Smallest and largest numeric value, for telling a renamed field's values from an unrelated one's: JSON
   * numbers, and strings that read as numbers (CSV cells are all text) unless most of the field's are not.
   */
  min?: number | undefined;
  max?: number | undefined;
  /** Total length of the string values, for their mean length. */
  stringLength: number;
  /** Non-blank strings that read as a number (`Number()`: "64000.5", "-1.2e-3"; not "$1,234" nor "1.2T"). */
  numericText: number;
  /** Non-blank strings that did not, counted while they did not outnumber numericText: after that none is read. */
  otherText: number;
  /** A top-level field's place among its record's keys, from the first record that had it: a table's header order. */
  column?: number | undefined;
}

export interface BatchProfile {
  records: number;
  fields: Map<string, FieldProfile>;
}

/** Objects nested deeper than this are profiled as one field: upstream records are shallow. */
const MAX_DEPTH = 6;

/**
 * One pass over raw records: which leaf paths occur, with which JSON types, how often null or empty, in which
 * order the top-level keys come. Arrays are leaves (their items are not profiled). Costs a walk of each record's
 * keys, nothing per batch beyond the map; a field's strings are read as numbers only while most of them are.
 */
export function profileRecords(payloads: Iterable<unknown>): BatchProfile {
  const fields = new Map<string, FieldProfile>();
  const root: PathNode = { path: '', children: new Map() };
  let records = 0;
  for (const payload of payloads) {
    records += 1;
    if (isPlainObject(payload)) visitObject(payload, root, 0, fields); // a record that is not an object has no fields
  }
  for (const field of fields.values()) {
    // Mostly text, with a few values that happen to read as numbers (a coin named "1"): no range.
    if (field.otherText > field.numericText && !field.types.number) {
      delete field.min;
      delete field.max;
    }
  }
  return { records, fields };
}

/**
 * A key path seen in the batch, built once: records of one upstream share their keys, so walking them through
 * these nodes costs no string building or lookup by path per record (this runs for every value of every load).
 */
interface PathNode {
  path: string;
  children: Map<string, PathNode>;
  field?: FieldProfile;
}

function visitObject(value: Record<string, unknown>, parent: PathNode, depth: number, fields: Map<string, FieldProfile>): void {
  let column = 0;
  for (const key in value) {
    let node = parent.children.get(key);
    if (!node) {
      node = { path: parent.path ? `${parent.path}.${key}` : key, children: new Map() };
      parent.children.set(key, node);
    }
    visit(value[key], node, depth + 1, fields, depth === 0 ? column : undefined);
    column += 1;
  }
}

function visit(value: unknown, node: PathNode, depth: number, fields: Map<string, FieldProfile>, column: number | undefined): void {
  if (isPlainObject(value) && depth < MAX_DEPTH && hasKeys(value)) {
    visitObject(value, node, depth, fields);
    return;
  }
  if (node.path === '') return; // a key without a name: nothing to call the field
  let field = node.field;
  if (!field) {
    // Every property from the start, so all profiles share one object shape (this object is written per value).
    field = { path: node.path, present: 0, types: {}, empty: 0, min: undefined, max: undefined, stringLength: 0, numericText: 0, otherText: 0, column };
    fields.set(node.path, field);
    node.field = field;
  }
  field.present += 1;
  const type = jsonTypeOf(value);
  field.types[type] = (field.types[type] ?? 0) + 1;
  if (type === 'string') {
    const text = value as string;
    field.stringLength += text.length;
    if (isBlank(text)) field.empty += 1;
    else if (field.otherText <= field.numericText) readText(field, text);
  } else if (type === 'number') {
    widen(field, value as number);
  }
}

function hasKeys(value: Record<string, unknown>): boolean {
  for (const _ in value) return true;
  return false;
}

/** "" or only spaces; trims (a copy) only a string that starts with a space. */
function isBlank(text: string): boolean {
  return text.length === 0 || (/\s/.test(text[0] as string) && text.trim() === '');
}

function readText(field: FieldProfile, text: string): void {
  const n = Number(text);
  if (Number.isFinite(n)) {
    field.numericText += 1;
    widen(field, n);
  } else {
    field.otherText += 1;
  }
}

function widen(field: FieldProfile, n: number): void {
  // Written only when they move: a write of a double may box it, and this runs for every numeric value.
  if (field.min === undefined || n < field.min) field.min = n;
  if (field.max === undefined || n > field.max) field.max = n;
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

/** The top-level fields in the order the batch's records have their keys: a table's header. */
export function headerOrder(profile: BatchProfile): string[] {
  return [...profile.fields.values()]
    .filter((f): f is FieldProfile & { column: number } => f.column !== undefined)
    .sort((a, b) => a.column - b.column || a.path.localeCompare(b.path))
    .map((f) => f.path);
}
