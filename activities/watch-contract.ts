import type { z } from 'zod';
import { contractOf, type ContractField } from '../src/contracts/contract';
import { detectDrift, type SchemaChange } from '../src/contracts/drift';
import { profileRecords } from '../src/contracts/profile';
import { readBaselineProfile, recordSchemaChanges, saveBaselineProfile } from '../src/db/schema-changes';
import type { Tx } from '../src/db/sql';
import type { Source } from '../src/sources/types';

const contracts = new WeakMap<z.ZodType, ContractField[]>();

/**
 * Profiles a batch's raw records and compares them with the source's contract and baseline, in the load's
 * transaction: changes are recorded (schema_changes), and a batch that shows none becomes the new baseline.
 * Returns the changes seen for the first time, for the caller to announce once the transaction has committed.
 */
export async function watchContract(
  tx: Tx,
  args: { source: Source; runId: string; payloads: readonly unknown[] },
): Promise<SchemaChange[]> {
  const schema = args.source.recordSchema;
  if (!schema) return [];
  let contract = contracts.get(schema);
  if (!contract) contracts.set(schema, (contract = contractOf(schema)));

  const profile = profileRecords(args.payloads);
  if (profile.records === 0) return [];
  const baseline = await readBaselineProfile(tx, args.source.name);
  const changes = detectDrift(contract, profile, { baseline });
  if (changes.length === 0) {
    await saveBaselineProfile(tx, { source: args.source.name, runId: args.runId, profile });
    return [];
  }
  return recordSchemaChanges(tx, { source: args.source.name, runId: args.runId, changes });
}
