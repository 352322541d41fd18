import { normalizeHeader, type ContractField, type JsonType } from './contract';
import type { FieldMapping } from './mapping';
import { dominantType, headerOrder, type BatchProfile, type FieldProfile } from './profile';
import { nameSimilarity } from './similarity';

/** The kinds of change a batch can show against its source's contract and last accepted profile. */
export const CHANGE_KINDS = [
  'required_missing', 'type_changed', 'mostly_empty', 'optional_missing', 'new_field', 'columns_reordered',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** What a columns_reordered change is about: the header as a whole, not one column. */
export const HEADER_FIELD = '(header)';

export interface RenameSuggestion {
  /** The field present in the batch that most likely took the missing one's place. */
  field: string;
  /** In [0, 1]: how alike the names are, discounted when the values do not look alike. */
  confidence: number;
  evidence: {
    name: number;
    /** The suggested field's values have a type the contract allows. */
    sameType: boolean;
    /** In [0, 1]: how much its values overlap the missing field's in the last accepted profile, when known. */
    values?: number;
    /** Another field scored as well (within AMBIGUOUS_WITHIN): the confidence is lowered, nothing is picked blindly. */
    ambiguousWith?: string;
  };
}

export interface SchemaChange {
  kind: ChangeKind;
  field: string;
  /** A record with this change cannot be loaded as the contract stands. */
  breaking: boolean;
  /** Records of the batch that show the change. */
  records: number;
  /** type_changed: the type the values have now. */
  observedType?: JsonType;
  /** columns_reordered: the header as the last accepted batch had it, and as this batch has it. */
  order?: { baseline: string[]; observed: string[] };
  suggested?: RenameSuggestion;
}

export interface DriftOptions {
  /** The source's last accepted profile: without one, new fields and fields that became empty cannot be told. */
  baseline?: BatchProfile;
  /**
   * The share of a batch's records that must show a change for it to be one of shape rather than a few bad
   * records (those are quarantined one by one, as before). Half: a rename shows in every record.
   */
  share?: number;
  /** A field whose present values are null or blank at least this often has become empty. */
  emptyShare?: number;
  /**
   * The field mapping the batch's payloads were read under. The fields it put back come last in a record
   * (applyMapping adds them), so their place tells nothing about the header: a table's column order is
   * compared without them.
   */
  mapping?: FieldMapping;
}

/** A rename scored lower than this is no suggestion: unrelated names score 0.1–0.3. */
const SUGGEST_AT_LEAST = 0.35;
/** A value of another JSON type than the contract's is strong evidence against a rename. */
const OTHER_TYPE_FACTOR = 0.3;
/** Two candidates this close are a tie (`price` → `price_usd` or `ath_price`?): the best one's confidence is cut. */
const AMBIGUOUS_WITHIN = 0.05;
const AMBIGUOUS_FACTOR = 0.6;

/**
 * Compares a batch's profile with its source's contract (and last accepted profile): what is missing, what
 * changed type, what became empty, what is new, and for each missing field the present one that most likely
 * replaced it; for a table's contract (fields with aliases), also whether its columns came in another order.
 * Deterministic: the same inputs give the same changes in the same order.
 */
export function detectDrift(contract: readonly ContractField[], profile: BatchProfile, options: DriftOptions = {}): SchemaChange[] {
  const { baseline, share = 0.5, emptyShare = 0.9, mapping = {} } = options;
  const { records } = profile;
  if (records === 0) return [];
  const common = (n: number) => n / records >= share;
  const headers = new Set(contract.flatMap((f) => f.aliases ?? []));
  const tabular = headers.size > 0;
  const paths = new Set(contract.map((f) => f.path));
  const known = (f: FieldProfile) => paths.has(f.path) || (tabular && headers.has(normalizeHeader(f.path)));
  const find = finder(profile, tabular);
  const findBefore = baseline && finder(baseline, tabular);
  // Where a missing field may have gone: common fields the contract does not read and, when known, new ones.
  const candidates = [...profile.fields.values()].filter(
    (f) => !known(f) && common(f.present) && !baseline?.fields.has(f.path),
  );
  const changes: SchemaChange[] = [];
  const suggestedFields = new Set<string>();

  for (const field of contract) {
    const seen = find(field);
    const missing = records - (seen?.present ?? 0);
    if (common(missing)) {
      const before = findBefore?.(field);
      // Optional and not sent: a change only if the last accepted batch had it (a first batch has nothing to lose).
      if (!field.required && !before) continue;
      const suggested = bestRename(field, candidates, before);
      if (suggested && suggested.confidence >= SUGGEST_AT_LEAST) suggestedFields.add(suggested.field);
      changes.push({
        kind: field.required ? 'required_missing' : 'optional_missing',
        field: field.path,
        breaking: field.required,
        records: missing,
        ...(suggested && suggested.confidence >= SUGGEST_AT_LEAST ? { suggested } : {}),
      });
      continue;
    }
    if (!seen) continue;
    const type = dominantType(seen);
    // Blank strings are no value rather than a string value: a number sent as "" has become empty, not text.
    const typed = (seen.types[type ?? 'null'] ?? 0) - (type === 'string' ? seen.empty : 0);
    if (type && !field.types.includes(type) && common(typed)) {
      // Breaking even for an optional field: the record schema refuses a value of another type wherever it is.
      changes.push({ kind: 'type_changed', field: field.path, breaking: true, records: typed, observedType: type });
      continue;
    }
    const cannotBeNull = !field.types.includes('null');
    const before = findBefore?.(field);
    if (blankShare(seen) >= emptyShare && (cannotBeNull || (before !== undefined && blankShare(before) < 1 - emptyShare))) {
      changes.push({ kind: 'mostly_empty', field: field.path, breaking: field.required && cannotBeNull, records: blanks(seen) });
    }
  }

  if (baseline) {
    for (const f of candidates) {
      if (!suggestedFields.has(f.path)) changes.push({ kind: 'new_field', field: f.path, breaking: false, records: f.present });
    }
    const order = tabular ? reordering(headerOrder(baseline), headerOrder(profile), new Set(Object.keys(mapping))) : undefined;
    if (order) changes.push({ kind: 'columns_reordered', field: HEADER_FIELD, breaking: false, records, order });
  }
  return changes.sort((a, b) => CHANGE_KINDS.indexOf(a.kind) - CHANGE_KINDS.indexOf(b.kind) || a.field.localeCompare(b.field));
}

function bestRename(field: ContractField, candidates: FieldProfile[], before: FieldProfile | undefined): RenameSuggestion | undefined {
  const scored = candidates
    .map((candidate): RenameSuggestion => {
      const name = Math.max(...(field.aliases ?? [field.path]).map((alias) => nameSimilarity(alias, candidate.path)));
      const type = dominantType(candidate);
      const sameType = type !== undefined && field.types.includes(type);
      const values = before ? valueSimilarity(before, candidate) : undefined;
      const confidence = name * (sameType ? 1 : OTHER_TYPE_FACTOR) * (values === undefined ? 1 : 0.6 + 0.4 * values);
      return { field: candidate.path, confidence, evidence: { name: round(name), sameType, ...(values === undefined ? {} : { values: round(values) }) } };
    })
    .sort((a, b) => b.confidence - a.confidence || a.field.localeCompare(b.field));
  const [best, next] = scored;
  if (!best) return undefined;
  const tie = next !== undefined && next.confidence >= best.confidence - AMBIGUOUS_WITHIN;
  return tie
    ? { ...best, confidence: round(best.confidence * AMBIGUOUS_FACTOR), evidence: { ...best.evidence, ambiguousWith: next.field } }
    : { ...best, confidence: round(best.confidence) };
}

/**
 * Finds a contract's fields in a profile: by path, and a table's column by the first of its aliases the header
 * has, as normalize() reads a row (a header spelled twice: the later column, as there).
 */
function finder(profile: BatchProfile, tabular: boolean): (field: ContractField) => FieldProfile | undefined {
  if (!tabular) return (field) => profile.fields.get(field.path);
  const columns = new Map([...profile.fields.values()].map((f) => [normalizeHeader(f.path), f]));
  return (field) => {
    if (!field.aliases) return profile.fields.get(field.path);
    for (const alias of field.aliases) {
      const column = columns.get(alias);
      if (column) return column;
    }
    return undefined;
  };
}

/**
 * The two headers, when the columns both have come in another order. Columns added or dropped are changes of
 * their own and move no other column: only the relative order of the ones kept counts, less the mapped ones.
 */
function reordering(before: string[], now: string[], mapped: ReadonlySet<string>): SchemaChange['order'] {
  const compared = (header: string[], other: string[]) => {
    const inOther = new Set(other);
    return header.filter((h) => inOther.has(h) && !mapped.has(h));
  };
  const kept = compared(now, before);
  return compared(before, now).some((h, i) => h !== kept[i]) ? { baseline: before, observed: now } : undefined;
}

/**
 * How alike two fields' values are, from their profiles: for numbers (or strings that read as numbers, as CSV
 * cells do), the overlap of their ranges on a log scale (prices span orders of magnitude); for other strings,
 * the ratio of their mean lengths. Undefined when the profiles do not say.
 */
export function valueSimilarity(a: FieldProfile, b: FieldProfile): number | undefined {
  if (a.min !== undefined && a.max !== undefined && b.min !== undefined && b.max !== undefined) {
    const [loA, hiA, loB, hiB] = [a.min, a.max, b.min, b.max].map(logScale) as [number, number, number, number];
    const span = Math.max(hiA, hiB) - Math.min(loA, loB);
    if (span === 0) return 1;
    return Math.max(0, Math.min(hiA, hiB) - Math.max(loA, loB)) / span;
  }
  const meanA = meanLength(a);
  const meanB = meanLength(b);
  if (meanA === undefined || meanB === undefined) return undefined;
  return Math.max(meanA, meanB) === 0 ? 1 : Math.min(meanA, meanB) / Math.max(meanA, meanB);
}

/** Present values that are null or blank. */
const blanks = (f: FieldProfile) => (f.types.null ?? 0) + f.empty;
const blankShare = (f: FieldProfile) => blanks(f) / f.present;

function meanLength(f: FieldProfile): number | undefined {
  const strings = f.types.string ?? 0;
  return strings > 0 ? f.stringLength / strings : undefined;
}

const logScale = (x: number) => Math.sign(x) * Math.log10(1 + Math.abs(x));
const round = (x: number) => Math.round(x * 100) / 100;
