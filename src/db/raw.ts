import { createHash } from 'node:crypto';
import type { Db } from './sql';

export interface RawRecord {
  id: string;
  payload: unknown;
  locator: string;
}

export interface StoredRaw {
  rawId: string;
  sourceRecordId: string;
  payload: unknown;
  locator: string | null;
}

/**
 * Stores records as sent and returns their row ids in input order. A payload already stored (same source, id
 * and content) keeps its row, so unchanged upstream data costs no new raw rows.
 */
export async function storeRaw(
  db: Db,
  args: { source: string; runId: string; fetchedAt: Date; records: readonly RawRecord[] },
): Promise<string[]> {
  if (args.records.length === 0) return [];
  // The batch goes as one JSON document, each payload spliced in as the text it was hashed from: one parameter
  // for PostgreSQL's C parser, rather than four text arrays whose every element postgres.js escapes in JS. The
  // parameter is typed text: typed jsonb, postgres.js would JSON-encode the string once more.
  const parts: string[] = [];
  args.records.forEach((r, ord) => {
    const text = JSON.stringify(r.payload);
    const hash = createHash('sha256').update(text).digest('hex');
    parts.push(`{"o":${ord},"i":${JSON.stringify(r.id)},"h":"${hash}","l":${JSON.stringify(r.locator)},"p":${text}}`);
  });
  // One statement for the whole batch: insert what is new, then read back every id (new or old). The
  // SELECT runs on the statement's snapshot, so it sees exactly the rows that existed before.
  const rows = await db<{ ord: string; id: string }[]>`
    WITH input AS (
      SELECT o AS ord, i AS source_record_id, h AS hash, l AS locator, p AS payload
        FROM jsonb_to_recordset(${`[${parts.join(',')}]`}::text::jsonb) AS t(o int, i text, h text, l text, p jsonb)
    ), inserted AS (
      INSERT INTO raw_payloads (source, source_record_id, content_hash, payload, locator, fetched_at, run_id)
      SELECT DISTINCT ON (source_record_id, hash)
             ${args.source}, source_record_id, decode(hash, 'hex'), payload, locator, ${args.fetchedAt}, ${args.runId}
        FROM input ORDER BY source_record_id, hash, ord
      ON CONFLICT (source, source_record_id, content_hash) DO NOTHING
      RETURNING id, source_record_id, content_hash
    ), known AS (
      SELECT id, source_record_id, content_hash FROM inserted
      UNION ALL
      SELECT r.id, r.source_record_id, r.content_hash
        FROM raw_payloads r
        JOIN (SELECT DISTINCT source_record_id, hash FROM input) i
          ON r.source = ${args.source} AND r.source_record_id = i.source_record_id AND r.content_hash = decode(i.hash, 'hex')
    )
    SELECT input.ord::text AS ord, known.id::text AS id
      FROM input JOIN known
        ON known.source_record_id = input.source_record_id AND known.content_hash = decode(input.hash, 'hex')
     ORDER BY input.ord`;
  if (rows.length !== args.records.length) throw new Error(`raw store returned ${rows.length} of ${args.records.length} ids`);
  return rows.map((row) => row.id);
}

export async function readRaw(db: Db, rawIds: readonly string[]): Promise<StoredRaw[]> {
  if (rawIds.length === 0) return [];
  return db<StoredRaw[]>`
    SELECT r.id::text AS "rawId", r.source_record_id AS "sourceRecordId", r.payload, r.locator
      FROM unnest(${rawIds as string[]}::bigint[]) WITH ORDINALITY AS b(id, ord)
      JOIN raw_payloads r ON r.id = b.id
     ORDER BY b.ord`;
}
