import { userInfo } from 'node:os';
import {
  acceptReview,
  IdentityConflict,
  IdentityNotFound,
  mergeAssets,
  pointListing,
  rejectReview,
  splitListing,
  type IdentityOutcome,
} from '../db/identity-operations';
import { listOpenReviews, type ReviewView } from '../db/identity-queries';
import type { Sql } from '../db/sql';
import { SOURCE_NAMES } from '../sources';
import { CliError, SCHEMA_CHANGE_EXIT as EXIT } from './schema-changes';
import { alignedTable } from './table';

/**
 * `etl identity review [--source S]`: the open review candidates, as a table.
 * `etl identity accept|reject SOURCE ID`, `merge FROM_ASSET INTO_ASSET`, `split SOURCE ID`,
 * `override SOURCE ID ASSET` [--note TEXT]: the operations of the API's /identity endpoints, audited as
 * `cli:<user>`. Exit codes as `etl schema-changes`: 1 usage, 2 not found, 3 refused (conflict).
 */
export async function identityCommand(
  sql: Sql,
  args: { words: readonly string[]; source?: string | undefined; note?: string | undefined },
  print: (line: string) => void,
): Promise<void> {
  const [action, ...rest] = args.words;
  const who = { actor: `cli:${userInfo().username}`, note: args.note };
  const operands = (names: string[]) => {
    if (rest.length !== names.length) throw usage(`identity ${action} takes ${names.join(' ')}`);
    return rest as string[];
  };
  switch (action) {
    case 'review': {
      operands([]);
      if (args.source !== undefined && !SOURCE_NAMES.includes(args.source)) throw usage(`--source must be one of ${SOURCE_NAMES.join(', ')}`);
      const page = await listOpenReviews(sql, { source: args.source, limit: 100, offset: 0 });
      for (const line of table(page.rows)) print(line);
      if (page.total > page.rows.length) print(`… ${page.rows.length} of ${page.total} shown, most likely first (narrow with --source)`);
      return;
    }
    case 'accept':
    case 'reject': {
      const [source, id] = listing(operands(['SOURCE', 'ID']));
      const run = action === 'accept' ? acceptReview(sql, { source, source_asset_id: id, ...who }, SOURCE_NAMES) : rejectReview(sql, { source, source_asset_id: id, ...who });
      print(summary(await refusals(run)));
      return;
    }
    case 'merge': {
      const [from, into] = operands(['FROM_ASSET', 'INTO_ASSET']).map(assetId) as [string, string];
      print(summary(await refusals(mergeAssets(sql, { from, into, ...who }, SOURCE_NAMES))));
      return;
    }
    case 'split': {
      const [source, id] = listing(operands(['SOURCE', 'ID']));
      print(summary(await refusals(splitListing(sql, { source, source_asset_id: id, ...who }, SOURCE_NAMES))));
      return;
    }
    case 'override': {
      const [source, id, asset] = operands(['SOURCE', 'ID', 'ASSET']) as [string, string, string];
      listing([source, id]);
      print(summary(await refusals(pointListing(sql, { source, source_asset_id: id, assetId: assetId(asset), ...who }, SOURCE_NAMES))));
      return;
    }
    default:
      throw usage(`unknown identity command "${action ?? ''}" (known: review, accept, reject, merge, split, override)`);
  }
}

const usage = (message: string) => new CliError(message, EXIT.usage);

function listing([source, id]: string[]): [string, string] {
  if (!source || !SOURCE_NAMES.includes(source)) throw usage(`SOURCE must be one of ${SOURCE_NAMES.join(', ')}, got "${source ?? ''}"`);
  if (!id) throw usage("ID is the source's own id of the coin (as /data shows it in source_asset_id)");
  return [source, id];
}

function assetId(text: string): string {
  if (!/^\d{1,18}$/.test(text)) throw usage(`an asset id is a whole number, got "${text}"`);
  return text;
}

/** A refusal becomes its one-line message and exit code. */
async function refusals(operation: Promise<IdentityOutcome>): Promise<IdentityOutcome> {
  try {
    return await operation;
  } catch (err) {
    if (err instanceof IdentityNotFound) throw new CliError(`${err.message} not found`, EXIT.notFound);
    if (err instanceof IdentityConflict) throw new CliError(err.message, EXIT.conflict);
    throw err;
  }
}

/** `merge: asset 12 → 7, 2 listings, 1,440 quotes and 2 latest quotes moved (audit 5)` */
function summary(o: IdentityOutcome): string {
  const listings = o.listings.map((l) => `${l.source}/${l.source_asset_id}`).join(', ');
  if (o.already) return `${o.operation}: already so (asset ${o.from_asset_id} → ${o.to_asset_id}; ${listings}): nothing changed`;
  return `${o.operation}: asset ${o.from_asset_id} → ${o.to_asset_id} (${listings}): ${o.quotes_moved} quotes and ${o.latest_moved} latest quotes moved (audit ${o.audit_id})`;
}

/** Aligned columns, one review a line. */
function table(rows: readonly ReviewView[]): string[] {
  if (rows.length === 0) return ['no open reviews'];
  const cells = rows.map((r) => [
    `${r.listing.source}/${r.listing.source_asset_id}`,
    `${r.listing.symbol} "${r.listing.name}"`,
    r.asset_id,
    `${r.candidate.asset_id} ${r.candidate.symbol} "${r.candidate.name}"`,
    r.confidence === null ? '?' : String(r.confidence),
    r.reason ?? '',
  ]);
  return alignedTable(['LISTING', 'NAMED', 'ASSET', 'CANDIDATE', 'CONFIDENCE', 'WHY'], cells);
}
