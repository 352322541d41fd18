import { sourceContract } from '../src/contracts/contract';
import { detectDrift } from '../src/contracts/drift';
import { applyMapping, type FieldMapping } from '../src/contracts/mapping';
import { profileRecords } from '../src/contracts/profile';
import { acceptSchemaChange, currentMapping, isMappable, type Settlement } from '../src/db/field-mappings';
import { readBaselineProfile, recordSchemaChanges, saveBaselineProfile, type RecordedChange } from '../src/db/schema-changes';
import type { Tx } from '../src/db/sql';
import type { Source } from '../src/sources/types';
import type { SchemaChangePolicy } from '../src/shared/types';

export interface ContractVerdict {
  /** The records as the contract expects them: the source's field mapping applied. */
  payloads: unknown[];
  /** Every change the batch shows, settled or not. */
  changes: RecordedChange[];
  /** The changes the batch shows that nobody has settled: under `freeze` the batch must not load. */
  unsettled: RecordedChange[];
  /** Changes seen for the first time (or open again), for the caller to announce once committed. */
  announce: RecordedChange[];
  /** Renames this batch accepted by itself (SCHEMA_AUTO_ACCEPT_CONFIDENCE). */
  autoAccepted: Settlement[];
}

/**
 * Reads a batch's raw records the way its source's contract expects them, in the load's transaction: applies
 * the source's newest field mapping, profiles the result against the contract and the baseline, and records what
 * changed (schema_changes). A rename suggested with enough confidence is accepted when the policy allows it, and
 * the batch read once more under the new mapping. A batch that shows nothing unsettled becomes the new baseline.
 */
export async function watchContract(
  tx: Tx,
  args: { source: Source; runId: string; batchId: string; payloads: readonly unknown[]; policy: SchemaChangePolicy },
): Promise<ContractVerdict> {
  const { source, runId, batchId, policy } = args;
  const contract = sourceContract(source);
  const autoAccepted: Settlement[] = [];
  const announce: RecordedChange[] = [];
  // Twice at most: as the mapping stands, and once more after this batch accepted a rename by itself.
  for (let look = 1; ; look++) {
    const { version, mapping, payloads } = await readThroughMapping(tx, source.name, args.payloads);
    if (!contract || payloads.length === 0) return { payloads, changes: [], unsettled: [], announce, autoAccepted };

    const profile = profileRecords(payloads);
    const baseline = await readBaselineProfile(tx, source.name);
    const changes = detectDrift(contract, profile, { baseline, mapping });
    const recorded = await recordSchemaChanges(tx, { source: source.name, runId, batchId, mappingVersion: version, changes });
    announce.push(...recorded.filter((c) => c.announce && !announce.some((a) => a.kind === c.kind && a.field === c.field)));
    const unsettled = recorded.filter((c) => c.status === 'open');

    const confident = look === 1 ? unsettled.filter((c) => acceptsByItself(policy, c)) : [];
    for (const change of confident) {
      const settled = await acceptSchemaChange(tx, {
        id: change.id, by: 'auto', note: `confidence ${change.suggested?.confidence} ≥ ${policy.autoAcceptAt}`,
      });
      if (settled) autoAccepted.push(settled);
    }
    if (confident.length > 0) continue;

    if (unsettled.length === 0) await saveBaselineProfile(tx, { source: source.name, runId, profile });
    return { payloads, changes: recorded, unsettled, announce, autoAccepted };
  }
}

/** The records under the source's newest field mapping, and the mapping: all a replay needs before normalizing. */
export async function readThroughMapping(
  tx: Tx,
  source: string,
  payloads: readonly unknown[],
): Promise<{ version: number; mapping: FieldMapping; payloads: unknown[] }> {
  const { version, mapping } = await currentMapping(tx, source);
  const mapped = Object.keys(mapping).length === 0 ? [...payloads] : payloads.map((p) => applyMapping(p, mapping));
  return { version, mapping, payloads: mapped };
}

/** Auto-accept is opt-in, and only for renames: a suggestion is a guess about a field's new name, nothing else. */
function acceptsByItself(policy: SchemaChangePolicy, change: RecordedChange): boolean {
  return (
    policy.autoAcceptAt !== undefined &&
    change.suggested !== undefined &&
    change.suggested.confidence >= policy.autoAcceptAt &&
    isMappable(change.kind)
  );
}
