import { fieldValue, type ContractField, type JsonType } from './contract';
import { getPath } from './mapping';
import { jsonTypeOf } from './profile';

/**
 * Naming the change behind a held-back record: a quarantine reason says `schema change: current_price missing;
 * current_price_renamed present (confidence 0.93)`, not only the symptom the record schema reports.
 */

/** What describing a change needs: a recorded change, or a row of schema_changes. */
export interface ChangeSummary {
  kind: string;
  field: string;
  observedType?: JsonType | string | null | undefined;
  suggested?: { field: string; confidence: number } | undefined;
}

/** A row of schema_changes as describeChange takes it. */
export function summaryOfRow(row: {
  kind: string;
  field: string;
  observed_type?: string | null;
  suggested_field: string | null;
  confidence: number | string | null;
}): ChangeSummary {
  const suggested = row.suggested_field && row.confidence !== null ? { field: row.suggested_field, confidence: Number(row.confidence) } : undefined;
  return { kind: row.kind, field: row.field, observedType: row.observed_type, suggested };
}

export function describeChange(change: ChangeSummary): string {
  const what =
    change.kind === 'type_changed'
      ? `${change.field} is ${change.observedType ?? 'another type'} now`
      : change.kind === 'mostly_empty'
        ? `${change.field} mostly empty`
        : `${change.field} missing`;
  const rename = change.suggested ? `; ${change.suggested.field} present (confidence ${change.suggested.confidence})` : '';
  return `${what}${rename}`;
}

/**
 * The first of `changes` that this record shows itself, if any: its field absent, of the new type, or blank.
 * The field is looked up as the contract reads it (a CSV column under any of its header spellings).
 */
export function changeShownBy<C extends ChangeSummary>(
  payload: unknown,
  changes: readonly C[],
  contract: readonly ContractField[] = [],
): C | undefined {
  return changes.find((change) => {
    const field = contract.find((f) => f.path === change.field);
    const value = field ? fieldValue(payload, field) : getPath(payload, change.field);
    switch (change.kind) {
      case 'required_missing':
      case 'optional_missing':
        return value === undefined;
      case 'type_changed':
        return value !== undefined && jsonTypeOf(value) === change.observedType;
      case 'mostly_empty':
        return value === null || (typeof value === 'string' && value.trim() === '');
      default:
        return false;
    }
  });
}
