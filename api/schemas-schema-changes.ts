import { CHANGE_KINDS } from '../src/contracts/drift';
import { SCHEMA_CHANGE_ID, SCHEMA_CHANGE_STATUSES } from '../src/db/schema-change-queries';
import { nullableTimestamp, timestamp } from './schemas-runs';
import { z } from './zod';

/** Response pieces shared by the schema change endpoints, /runs/:run_id and /health. */

export const SchemaChangeStatus = z.enum(SCHEMA_CHANGE_STATUSES);

/** schema_changes.id in a path: a positive whole number. */
export const schemaChangeIdParam = z
  .string()
  .regex(SCHEMA_CHANGE_ID, 'must be a schema change id (a positive whole number)')
  .transform(Number)
  .openapi({ type: 'string', pattern: SCHEMA_CHANGE_ID.source, example: '3' });

const confidence = z.number().min(0).max(1).nullable().openapi({ description: 'of the suggested rename; null without one' });

export const SchemaChange = z
  .object({
    id: z.number().int(),
    source: z.string(),
    kind: z.enum(CHANGE_KINDS),
    field: z.string().openapi({ description: "the contract's field (a dotted path), or the new field's", example: 'current_price' }),
    breaking: z.boolean().openapi({ description: 'records showing it cannot be loaded as the contract stands' }),
    observed_type: z.string().nullable().openapi({ description: 'type_changed: the JSON type the values have now' }),
    suggested_field: z.string().nullable().openapi({ description: 'the upstream field that most likely replaced a missing one' }),
    confidence,
    evidence: z.record(z.string(), z.unknown()).nullable().openapi({ description: "what the suggestion's confidence rests on" }),
    records_affected: z.number().int().openapi({ description: 'records that showed it, over every run' }),
    first_run_id: z.string(),
    last_run_id: z.string(),
    first_seen_at: timestamp,
    last_seen_at: timestamp,
    status: SchemaChangeStatus,
    resolution: z.string().nullable().openapi({ description: 'how it was settled, and by whom' }),
    resolved_at: nullableTimestamp,
    mapping_version: z.number().int().nullable().openapi({ description: 'the field mapping version an accepted rename wrote' }),
  })
  .openapi('SchemaChange');

export const RunSchemaChange = z
  .object({
    id: z.number().int(),
    kind: z.enum(CHANGE_KINDS),
    field: z.string(),
    breaking: z.boolean(),
    suggested_field: z.string().nullable(),
    confidence,
    status: SchemaChangeStatus.openapi({ description: "the change's status now" }),
    records: z.number().int().openapi({ description: "this run's records that showed it" }),
  })
  .openapi('RunSchemaChange');

export const OpenBreakingChange = SchemaChange.pick({
  id: true,
  source: true,
  kind: true,
  field: true,
  suggested_field: true,
  confidence: true,
  records_affected: true,
  last_run_id: true,
  last_seen_at: true,
}).openapi('OpenBreakingChange');
