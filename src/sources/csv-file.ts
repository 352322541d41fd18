import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { InvalidPayloadError, UpstreamUnavailableError } from '../shared/errors';

/**
 * Reading a CSV file in pages from a byte offset, so a run resumes mid-file and a later run reads only the rows
 * appended since, in constant memory whatever the file's size.
 */
export interface CsvPosition {
  /** Byte offset just past the last row read. */
  offset: number;
  /**
   * Line breaks before `offset`: the line number of the last row read (the header is line 1), or one less when
   * that row is the file's last and has no line break yet, so rows appended after it still count right.
   */
  line: number;
  /** The header row, once read. */
  header: string[] | null;
  /** Identifies the file content before `offset` (see fingerprintAt). */
  fingerprint: string;
}

export interface CsvRow {
  /** Where the row starts: a quoted cell may carry it over several lines. */
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
  const handle = await openFile(path);
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
    throw unreadable(path, err);
  }
}

async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    throw unreadable(path, err);
  }
}

/**
 * The file is the CSV source's upstream: missing or unreadable (moved away while a new export is written, a
 * network mount that dropped) is retried with backoff like a refused connection, not failed for good. Found by
 * the chaos suite: a run whose file was gone for 8 s failed, and never loaded the rest.
 */
function unreadable(path: string, err: unknown): UpstreamUnavailableError {
  return new UpstreamUnavailableError(`CSV file ${path} cannot be read: ${(err as Error).message}`);
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
  const handle = await openFile(path);
  const input = handle.createReadStream({ start: from.offset });
  const parser = input.pipe(
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
  let lastLine: number | undefined;
  // csv-parse counts a CRLF inside a quoted cell as two lines; every later line number is corrected by these.
  let quotedCrlfs = 0;
  let atEnd = true;
  try {
    for await (const { record, info } of parser as AsyncIterable<ParsedRecord>) {
      if (rows.length === limit) {
        atEnd = false;
        break;
      }
      // info counts from where this read started; bytes ends past the row's line break.
      offset = from.offset + info.bytes;
      quotedCrlfs += countIn(record, CRLF);
      lastLine = from.line + info.lines - quotedCrlfs;
      if (header) rows.push({ line: lastLine - countIn(record, LINE_BREAK), values: record });
      else header = record.map((cell) => cell.trim());
    }
  } finally {
    // Breaking off a page leaves the file stream paused, not closed: close it, or every page leaks a descriptor.
    parser.destroy();
    input.destroy();
  }
  if (!header) throw new InvalidPayloadError(`CSV file ${path} has no header row`);
  const line = lastLine === undefined ? from.line : lastLine - ((await endsLine(path, offset)) ? 0 : 1);
  const position = { offset, line, header, fingerprint: await fingerprintAt(path, offset) };
  return { header, rows, position, atEnd };
}

const CRLF = /\r\n/g;
const LINE_BREAK = /\r\n|\r|\n/g;

/** How many times `pattern` occurs in the cells of one record. */
function countIn(record: string[], pattern: RegExp): number {
  let n = 0;
  for (const cell of record) if (cell.includes('\n') || cell.includes('\r')) n += cell.match(pattern)?.length ?? 0;
  return n;
}

/** Whether the byte before `offset` ends a line: false when the last row read has no line break after it yet. */
async function endsLine(path: string, offset: number): Promise<boolean> {
  if (offset === 0) return true;
  const handle = await openFile(path);
  try {
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, offset - 1);
    return last[0] === 0x0a || last[0] === 0x0d;
  } finally {
    await handle.close();
  }
}

interface ParsedRecord {
  record: string[];
  info: { bytes: number; lines: number };
}
