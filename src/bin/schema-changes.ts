import { fieldNameProblem } from '../contracts/mapping';
import { acceptSchemaChange, ignoreSchemaChange, SettlementConflict, type Settlement } from '../db/field-mappings';
import {
  listSchemaChanges,
  SCHEMA_CHANGE_ID,
  SCHEMA_CHANGE_STATUSES,
  type SchemaChangeStatus,
  type SchemaChangeView,
} from '../db/schema-change-queries';
import type { Sql } from '../db/sql';
import { SOURCE_NAMES } from '../sources';
import { alignedTable } from './table';

/**
 * `etl schema-changes [--source S] [--status open|accepted|ignored]`: the changes recorded, as a table.
 * `etl schema-changes accept ID [--from FIELD]` and `etl schema-changes ignore ID`: settle one, by 'cli'.
 */

/** Exit codes: 1 for a wrong command line (as every other command), then one per way settling is refused. */
export const SCHEMA_CHANGE_EXIT = { usage: 1, notFound: 2, conflict: 3 } as const;

/** A one-line message for stderr and the process's exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The table shows this many changes, newest first; the filters narrow a longer list. */
const LIST_LIMIT = 100;

export async function schemaChangesCommand(
  sql: Sql,
  args: { action: string | undefined; id: string | undefined; source?: string | undefined; status?: string | undefined; from?: string | undefined },
  print: (line: string) => void,
): Promise<void> {
  switch (args.action) {
    case undefined: {
      if (args.from !== undefined) throw usage('--from goes with accept');
      const source = known('--source', args.source, SOURCE_NAMES);
      const status = known('--status', args.status, SCHEMA_CHANGE_STATUSES) as SchemaChangeStatus | undefined;
      const page = await listSchemaChanges(sql, { source, status, limit: LIST_LIMIT, offset: 0 });
      for (const line of table(page.rows)) print(line);
      if (page.total > page.rows.length) print(`… ${page.rows.length} of ${page.total} shown, newest first (narrow with --source or --status)`);
      return;
    }
    case 'accept': {
      const id = changeId(args.id);
      const problem = args.from === undefined ? undefined : fieldNameProblem(args.from);
      if (problem) throw usage(`--from ${problem}`);
      print(settled(id, await settling(() => acceptSchemaChange(sql, { id, from: args.from, by: 'cli' }))));
      return;
    }
    case 'ignore': {
      const id = changeId(args.id);
      if (args.from !== undefined) throw usage('--from goes with accept');
      print(settled(id, await settling(() => ignoreSchemaChange(sql, { id, by: 'cli' }))));
      return;
    }
    default:
      throw usage(`unknown schema-changes command "${args.action}" (known: accept, ignore; none lists)`);
  }
}

const usage = (message: string) => new CliError(message, SCHEMA_CHANGE_EXIT.usage);

function known(option: string, value: string | undefined, allowed: readonly string[]): string | undefined {
  if (value === undefined || allowed.includes(value)) return value;
  throw usage(`${option} must be one of ${allowed.join(', ')}, got "${value}"`);
}

function changeId(text: string | undefined): number {
  if (text === undefined) throw usage('name the schema change: its id, as `etl schema-changes` lists it');
  if (!SCHEMA_CHANGE_ID.test(text)) throw usage(`a schema change id is a positive whole number, got "${text}"`);
  return Number(text);
}

/** A refusal becomes its one-line message and exit code. */
async function settling(settle: () => Promise<Settlement | undefined>): Promise<Settlement | undefined> {
  try {
    return await settle();
  } catch (err) {
    if (err instanceof SettlementConflict) throw new CliError(err.message, SCHEMA_CHANGE_EXIT.conflict);
    throw err;
  }
}

function settled(id: number, settlement: Settlement | undefined): string {
  if (!settlement) throw new CliError(`schema change ${id} not found`, SCHEMA_CHANGE_EXIT.notFound);
  const { source, kind, field, status, resolution } = settlement;
  return `schema change ${id} ${status} (${source} ${kind} ${field}): ${resolution}`;
}

/** Aligned columns, one change a line. */
function table(rows: readonly SchemaChangeView[]): string[] {
  if (rows.length === 0) return ['no schema changes'];
  const cells = rows.map((c) => [
    String(c.id),
    c.source,
    c.kind,
    c.field,
    c.breaking ? 'yes' : 'no',
    c.suggested_field ? `${c.suggested_field} (${c.confidence ?? '?'})` : '-',
    String(c.records_affected),
    c.status,
    `${c.last_seen_at.toISOString().slice(0, 19)}Z`,
  ]);
  return alignedTable(['ID', 'SOURCE', 'KIND', 'FIELD', 'BREAKING', 'SUGGESTED', 'RECORDS', 'STATUS', 'LAST SEEN'], cells);
}
