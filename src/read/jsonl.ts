/**
 * JSON Lines reader: streams a (possibly compressed) file, splits on `\n` (a trailing `\r` is
 * removed), decodes each line as strict UTF-8 and parses it with `JSON.parse`. Blank lines hold no
 * record and are passed over. Memory: one chunk (1 MiB) plus the longest line.
 */
import type { BadRecord, ReadItem } from '../core/doc.ts';
import { openDecompressed } from './decompress.ts';
import type { InputFile } from './files.ts';
import { textFromRecord } from './record.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Splits a byte stream into lines (without the `\n`), yielding `[line, 1-based line number]`. */
async function* lines(stream: AsyncIterable<Buffer>): AsyncGenerator<[Buffer, number]> {
  let pending: Buffer[] = [];
  let lineNo = 0;
  for await (const chunk of stream) {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      const line = pending.length ? Buffer.concat([...pending, piece]) : piece;
      pending = [];
      lineNo++;
      yield [line, lineNo];
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length) yield [Buffer.concat(pending), lineNo + 1];
}

/** A parsed JSON record with its place, or a bad record. */
export type RecordItem = { kind: 'record'; record: unknown; where: string; /** 1-based line (JSONL) or 0-based row (Parquet). */ position: number } | { kind: 'bad'; bad: BadRecord };

/**
 * Parses one JSONL file of `source` into records, in file order; `where` is `<relPath>:<line>`.
 * Lines that are not valid UTF-8 or not JSON are bad records (never skipped silently).
 * @throws Error (from the decompressor or the file system) on unreadable or corrupt files.
 */
export async function* jsonlRecords(source: string, file: InputFile, onRawBytes?: (bytesRead: number) => void): AsyncGenerator<RecordItem> {
  for await (let [line, lineNo] of lines(openDecompressed(file.absPath, onRawBytes))) {
    if (line.length && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
    const where = `${file.relPath}:${lineNo}`;
    let decoded: string;
    try {
      decoded = utf8.decode(line);
    } catch {
      yield { kind: 'bad', bad: { source, reason: 'invalid_utf8', where, detail: 'line is not valid UTF-8' } };
      continue;
    }
    if (decoded.trim() === '') continue;
    try {
      yield { kind: 'record', record: JSON.parse(decoded), where, position: lineNo };
    } catch (error) {
      yield { kind: 'bad', bad: { source, reason: 'malformed_json', where, detail: (error as Error).message } };
    }
  }
}

/**
 * Reads one JSONL file of `source`, yielding documents (ids `<relPath>:<line>`) and bad records.
 * @throws Error (from the decompressor or the file system) on unreadable or corrupt files.
 */
export async function* readJsonl(source: string, file: InputFile, textField: string, onRawBytes?: (bytesRead: number) => void): AsyncGenerator<ReadItem> {
  for await (const item of jsonlRecords(source, file, onRawBytes)) {
    yield item.kind === 'bad' ? item : textFromRecord(source, item.where, item.record, textField);
  }
}
