/**
 * JSON Lines reader: streams a (possibly compressed) file, splits on `\n` (a trailing `\r` is
 * removed), decodes each line as strict UTF-8 and parses it with `JSON.parse`. Blank lines hold no
 * record and are passed over. Memory: one chunk (1 MiB) plus the longest line.
 */
import type { BadRecord, ReadItem, SkippedInput } from '../core/doc.ts';
import { CorruptInputError } from '../core/errors.ts';
import { DecodeError } from './compression.ts';
import { openDecoded } from './decompress.ts';
import type { InputFile } from './files.ts';
import { textFromRecord } from './record.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Longest JSONL line read as a record, bytes (64 MiB); a longer line is a bad record `line_too_long`. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Splits a byte stream into lines (without the `\n`), yielding `[line, 1-based line number]`;
 * a line longer than `maxLineBytes` is yielded as `[null, number]` after its bytes are skipped, so
 * memory stays bounded by `maxLineBytes` plus one chunk.
 */
async function* lines(stream: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<[Buffer | null, number]> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let tooLong = false;
  let lineNo = 0;
  for await (const chunk of stream) {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      lineNo++;
      if (tooLong || pendingBytes + piece.length > maxLineBytes) yield [null, lineNo];
      else yield [pending.length ? Buffer.concat([...pending, piece]) : piece, lineNo];
      pending = [];
      pendingBytes = 0;
      tooLong = false;
      start = nl + 1;
    }
    if (start < chunk.length && !tooLong) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > maxLineBytes) {
        tooLong = true;
        pending = [];
      }
    }
  }
  if (tooLong) yield [null, lineNo + 1];
  else if (pending.length) yield [Buffer.concat(pending), lineNo + 1];
}

/**
 * A parsed record with its place, or a bad record. `where` (`<relPath>:<line>` or `<relPath>#<row>`)
 * locates the record for people; `idWhere` is the same place named by the file's `idPath`, the
 * location-independent fallback document id.
 */
export type RecordItem =
  | { kind: 'record'; record: unknown; where: string; idWhere: string; /** 1-based line (JSONL) or 0-based row (Parquet). */ position: number }
  | { kind: 'bad'; bad: BadRecord }
  | { kind: 'skipped'; skipped: SkippedInput };

/** The error for compressed data of `file` that broke after `recordsRead` records. */
export function corruptInput(file: InputFile, error: DecodeError, recordsRead: number): CorruptInputError {
  return new CorruptInputError(
    `${file.relPath}: cannot decode ${error.codec} data at compressed byte ${error.byteOffset}, after ${recordsRead} records: ${error.message}`,
    file.relPath,
    error.byteOffset,
    recordsRead,
    { cause: error },
  );
}

/**
 * Parses one JSONL file of `source` into records, in file order; `where` is `<relPath>:<line>`.
 * Lines that are not valid UTF-8 or not JSON are bad records (never skipped silently). A 0-byte
 * file (or compressed data of nothing) yields nothing. A line cut off by a break in compressed
 * data is not yielded.
 * @throws CorruptInputError (file, compressed byte offset, records yielded so far) when compressed
 *   data is truncated or corrupt; InputError for an unsupported compression; Error from the file
 *   system on unreadable files.
 */
export async function* jsonlRecords(
  source: string,
  file: InputFile,
  onRawBytes?: (bytesRead: number) => void,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<RecordItem> {
  const split = lines((await openDecoded(file.absPath, file.relPath, onRawBytes)).bytes, maxLineBytes);
  let recordsRead = 0;
  for (;;) {
    let next: IteratorResult<[Buffer | null, number]>;
    try {
      next = await split.next();
    } catch (error) {
      throw error instanceof DecodeError ? corruptInput(file, error, recordsRead) : error;
    }
    if (next.done) return;
    let [line] = next.value;
    const lineNo = next.value[1];
    const where = `${file.relPath}:${lineNo}`;
    if (line === null) {
      recordsRead++;
      yield { kind: 'bad', bad: { source, reason: 'line_too_long', where, detail: `line is longer than ${maxLineBytes} bytes` } };
      continue;
    }
    if (line.length && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
    let decodedLine: string;
    try {
      decodedLine = utf8.decode(line);
    } catch {
      recordsRead++;
      yield { kind: 'bad', bad: { source, reason: 'invalid_utf8', where, detail: 'line is not valid UTF-8' } };
      continue;
    }
    if (decodedLine.trim() === '') {
      yield { kind: 'skipped', skipped: { source, reason: 'blank_line', where } };
      continue;
    }
    recordsRead++;
    let record: unknown;
    try {
      record = JSON.parse(decodedLine);
    } catch (error) {
      yield { kind: 'bad', bad: { source, reason: 'malformed_json', where, detail: (error as Error).message } };
      continue;
    }
    yield { kind: 'record', record, where, idWhere: `${file.idPath}:${lineNo}`, position: lineNo };
  }
}

/**
 * Reads one JSONL file of `source`, yielding documents (ids `<idPath>:<line>`) and bad records.
 * @throws Error (from the decompressor or the file system) on unreadable or corrupt files.
 */
export async function* readJsonl(source: string, file: InputFile, textField: string, onRawBytes?: (bytesRead: number) => void): AsyncGenerator<ReadItem> {
  for await (const item of jsonlRecords(source, file, onRawBytes)) {
    yield item.kind !== 'record' ? item : textFromRecord(source, item, item.record, textField);
  }
}
