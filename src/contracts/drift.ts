import type { ContractField, JsonType } from './contract';
import { dominantType, type BatchProfile, type FieldProfile } from './profile';
import { nameSimilarity } from './similarity';

/** The kinds of change a batch can show against its source's contract and last accepted profile. */
export const CHANGE_KINDS = ['required_missing', 'type_changed', 'mostly_empty', 'optional_missing', 'new_field'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

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
 * replaced it. Deterministic: the same inputs give the same changes in the same order.
 */
export function detectDrift(contract: ContractField[], profile: BatchProfile, options: DriftOptions = {}): SchemaChange[] {
  const { baseline, share = 0.5, emptyShare = 0.9 } = options;
  const { records } = profile;
  if (records === 0) return [];
  const common = (n: number) => n / records >= share;
  const known = new Set(contract.map((f) => f.path));
  // Where a missing field may have gone: common fields the contract does not read and, when known, new ones.
  const candidates = [...profile.fields.values()].filter(
    (f) => !known.has(f.path) && common(f.present) && !baseline?.fields.has(f.path),
  );
  const changes: SchemaChange[] = [];
  const suggestedFields = new Set<string>();

  for (const field of contract) {
    const seen = profile.fields.get(field.path);
    const missing = records - (seen?.present ?? 0);
    if (common(missing)) {
      const before = baseline?.fields.get(field.path);
      if (!field.required && baseline && !before) continue; // optional and never sent: nothing changed
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
    const before = baseline?.fields.get(field.path);
    if (blankShare(seen) >= emptyShare && (cannotBeNull || (before !== undefined && blankShare(before) < 1 - emptyShare))) {
      changes.push({ kind: 'mostly_empty', field: field.path, breaking: field.required && cannotBeNull, records: blanks(seen) });
    }
  }

  if (baseline) {
    for (const f of candidates) {
      if (!suggestedFields.has(f.path)) changes.push({ kind: 'new_field', field: f.path, breaking: false, records: f.present });
    }
  }
  return changes.sort((a, b) => CHANGE_KINDS.indexOf(a.kind) - CHANGE_KINDS.indexOf(b.kind) || a.field.localeCompare(b.field));
}

function bestRename(field: ContractField, candidates: FieldProfile[], before: FieldProfile | undefined): RenameSuggestion | undefined {
  const scored = candidates
    .map((candidate): RenameSuggestion => {
      const name = nameSimilarity(field.path, candidate.path);
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
 * How alike two fields' values are, from their profiles: for numbers, the overlap of their ranges on a log
 * scale (prices span orders of magnitude); for strings, the ratio of their mean lengths. Undefined when the
 * profiles do not say.
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
