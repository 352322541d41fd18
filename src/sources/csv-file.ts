import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { InvalidPayloadError } from '../shared/errors';

/**
 * Reading a CSV file in pages from a byte offset, so a run resumes mid-file and a later run reads only the rows
 * appended since, in constant memory whatever the file's size.
 */
export interface CsvPosition {
  /** Byte offset just past the last row read. */
  offset: number;
  /** Line number of that row (1-based; the header is line 1). */
  line: number;
  /** The header row, once read. */
  header: string[] | null;
  /** Identifies the file content before `offset` (see fingerprintAt). */
  fingerprint: string;
}

export interface CsvRow {
  line: number;
  values: string[];
}

const HEAD_BYTES = 64 * 1024;
const TAIL_BYTES = 4 * 1024;

/**
 * A cheap identity of the bytes before `offset`: its first 64 KiB and the 4 KiB just before it. If both still
 * match, the file is the one we read, perhaps with rows appended; otherwise it is a different file.
 */
export async function fingerprintAt(path: string, offset: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const head = Buffer.alloc(Math.min(offset, HEAD_BYTES));
    await handle.read(head, 0, head.length, 0);
    const tailStart = Math.max(0, offset - TAIL_BYTES);
    const tail = Buffer.alloc(offset - tailStart);
    await handle.read(tail, 0, tail.length, tailStart);
    return hash.update(head).update(String(offset)).update(tail).digest('hex');
  } finally {
    await handle.close();
  }
}

export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    throw new InvalidPayloadError(`CSV file ${path} cannot be read: ${(err as Error).message}`);
  }
}

/** Where to read `path` from: the saved position if the file still starts with what we read, else the top. */
export async function resumePosition(path: string, saved: CsvPosition | null): Promise<CsvPosition> {
  const size = await fileSize(path);
  if (saved && saved.offset <= size && (await fingerprintAt(path, saved.offset)) === saved.fingerprint) return saved;
  return { offset: 0, line: 0, header: null, fingerprint: await fingerprintAt(path, 0) };
}

/**
 * Reads up to `limit` data rows after `from`, and the position just past them. `atEnd` is true when the file
 * had no more rows; the position is then the end of what was read, where appended rows will start.
 */
export async function readRows(
  path: string,
  from: CsvPosition,
  limit: number,
): Promise<{ header: string[]; rows: CsvRow[]; position: CsvPosition; atEnd: boolean }> {
  const parser = createReadStream(path, { start: from.offset }).pipe(
    parse({
      bom: true,
      info: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
    }),
  );
  let header = from.header;
  const rows: CsvRow[] = [];
  let offset = from.offset;
  let line = from.line;
  let atEnd = true;
  for await (const { record, info } of parser as AsyncIterable<ParsedRecord>) {
    if (rows.length === limit) {
      atEnd = false;
      break;
    }
    // info counts from where this read started; bytes ends past the row's line break.
    offset = from.offset + info.bytes;
    line = from.line + info.lines;
    if (header) rows.push({ line, values: record });
    else header = record.map((cell) => cell.trim());
  }
  parser.destroy();
  if (!header) throw new InvalidPayloadError(`CSV file ${path} has no header row`);
  const position = { offset, line, header, fingerprint: await fingerprintAt(path, offset) };
  return { header, rows, position, atEnd };
}

interface ParsedRecord {
  record: string[];
  info: { bytes: number; lines: number };
}
