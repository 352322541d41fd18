/**
 * Field mappings: an operator's answer to a rename. `{ "current_price": "currentPrice" }` reads the contract's
 * field `current_price` from the upstream's `currentPrice`. Paths are dotted, as in the contract
 * (`quotes.USD.price`). Applied to a raw payload before it is profiled and normalized; the stored raw payload is
 * never changed, so a replay under a later mapping reads the same bytes.
 */
export type FieldMapping = Readonly<Record<string, string>>;

/**
 * Why `name` cannot be an upstream field to map from, or undefined when it can: a dotted JSON path
 * (`quotes.USD.price_usd`) or a CSV header as the file spells it (`Vol. 24h`, `Cost (USD)`).
 */
export function fieldNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'must name the upstream field (it is blank)';
  if (name.length > 200) return 'must be at most 200 characters';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'must not contain control characters';
  return undefined;
}

/**
 * The payload as the contract expects it: each mapped upstream field moved to its contract path, unless the
 * payload already has that path (the upstream sends it again: it wins, and the mapping shows as no longer
 * needed). Copies only the objects on the paths it changes. A name the record has as one key (a CSV header
 * such as `Vol. 24h`) is that key, never a path through it.
 */
export function applyMapping(payload: unknown, mapping: FieldMapping): unknown {
  let out = payload;
  for (const [to, from] of Object.entries(mapping)) {
    if (!isObject(out)) return out;
    const value = getPath(out, from);
    if (value === undefined || getPath(out, to) !== undefined) continue;
    out = setPath(deletePath(out, from), to, value);
  }
  return out;
}

export function getPath(value: unknown, path: string): unknown {
  if (isObject(value) && Object.hasOwn(value, path)) return value[path];
  let at = value;
  for (const key of path.split('.')) {
    if (!isObject(at) || !Object.hasOwn(at, key)) return undefined;
    at = at[key];
  }
  return at;
}

function setPath(value: Record<string, unknown>, path: string, leaf: unknown): Record<string, unknown> {
  const [key, ...rest] = path.split('.') as [string, ...string[]];
  if (rest.length === 0) return { ...value, [key]: leaf };
  const child = isObject(value[key]) ? value[key] : {};
  return { ...value, [key]: setPath(child, rest.join('.'), leaf) };
}

function deletePath(value: Record<string, unknown>, path: string): Record<string, unknown> {
  if (Object.hasOwn(value, path)) {
    const { [path]: _gone, ...kept } = value;
    return kept;
  }
  const [key, ...rest] = path.split('.') as [string, ...string[]];
  if (!Object.hasOwn(value, key) || rest.length === 0) return value;
  const child = value[key];
  return isObject(child) ? { ...value, [key]: deletePath(child, rest.join('.')) } : value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
