/**
 * Parquet reader (hyparquet + hyparquet-compressors: snappy, gzip, zstd, brotli, lz4). Reads
 * only the text column, one row group at a time, so memory is bounded by the largest row group's
 * text (measured in ../shared/LIBRARIES.md §2: 397 MB peak on a 685 MB-text file).
 */
import { asyncBufferFromFile, cachedAsyncBuffer, parquetMetadataAsync, parquetReadObjects, type AsyncBuffer } from 'hyparquet';
import { hubRangeReader } from './hub/client.ts';
import { remoteOptions } from './files.ts';
import { compressors } from 'hyparquet-compressors';
import type { ReadItem } from '../core/doc.ts';
import { InputError } from '../core/errors.ts';
import type { InputFile } from './files.ts';
import type { RecordItem } from './jsonl.ts';
import { textFromRecord } from './record.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a row's byte-array values as strict UTF-8 in place; returns the first column that fails, or null. */
function decodeStrings(row: Record<string, unknown>): string | null {
  for (const [column, value] of Object.entries(row)) {
    if (!(value instanceof Uint8Array)) continue;
    try {
      row[column] = utf8.decode(value);
    } catch {
      return column;
    }
  }
  return null;
}

/**
 * The bytes of a Parquet file for hyparquet: a hub file by HTTP range requests (only the footer
 * and the row groups read are fetched, so a large file can be sampled), a local one from disk.
 */
export async function openParquetBuffer(file: InputFile): Promise<AsyncBuffer> {
  return file.hub && !file.absPath ? cachedAsyncBuffer(hubRangeReader(file.hub, remoteOptions(file))) : asyncBufferFromFile(file.absPath);
}

/**
 * Reads the given columns of one Parquet file, one row group at a time, as records
 * (`where` = `<relPath>#<row>`, 0-based rows). Columns in `optional` are read when present.
 * @throws InputError when the file is not Parquet or lacks a required column.
 */
export async function* parquetRecords(
  source: string,
  file: InputFile,
  required: readonly string[],
  optional: readonly string[] = [],
  onRawBytes?: (bytesRead: number) => void,
): AsyncGenerator<RecordItem> {
  const buffer = await openParquetBuffer(file);
  let metadata;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    throw new InputError(`${file.relPath}: not a readable Parquet file: ${(error as Error).message}`, { source, file: file.relPath }, { cause: error });
  }
  const present = metadata.schema.slice(1).map((element) => element.name);
  for (const column of required) {
    if (!present.includes(column)) {
      throw new InputError(`${file.relPath}: Parquet file has no column "${column}" (columns: ${present.join(', ')}); set the source's textField`, {
        source,
        file: file.relPath,
      });
    }
  }
  const columns = [...required, ...optional.filter((c) => present.includes(c) && !required.includes(c))];
  let rowStart = 0;
  for (const rowGroup of metadata.row_groups) {
    const rowEnd = rowStart + Number(rowGroup.num_rows);
    let rows: Record<string, unknown>[];
    try {
      // utf8: false and a raw stringFromBytes: byte arrays, UTF-8-annotated or not, come back raw and
      // are decoded here strictly, so invalid UTF-8 is a located bad record instead of silent U+FFFD.
      rows = await parquetReadObjects({
        file: buffer,
        metadata,
        columns,
        rowStart,
        rowEnd,
        compressors,
        utf8: false,
        parsers: { stringFromBytes: (bytes: Uint8Array) => bytes },
      });
    } catch (error) {
      throw new InputError(
        `${file.relPath}#${rowStart}: cannot decode rows ${rowStart}..${rowEnd - 1}: ${(error as Error).message}`,
        { source, file: file.relPath, row: rowStart },
        { cause: error },
      );
    }
    for (let i = 0; i < rows.length; i++) {
      const where = `${file.relPath}#${rowStart + i}`;
      const bad = decodeStrings(rows[i]);
      if (bad) yield { kind: 'bad', bad: { source, reason: 'invalid_utf8', where, detail: `column "${bad}" is not valid UTF-8` } };
      else yield { kind: 'record', record: rows[i], where, idWhere: `${file.idPath}#${rowStart + i}`, position: rowStart + i };
    }
    rowStart = rowEnd;
    onRawBytes?.(Math.round((file.sizeBytes * rowStart) / Math.max(1, Number(metadata.num_rows))));
  }
}

/**
 * Reads one Parquet file of `source`, yielding documents (ids `<idPath>#<row>`, 0-based rows).
 * @throws InputError when the file is not Parquet or lacks the text column.
 */
export async function* readParquet(source: string, file: InputFile, textField: string, onRawBytes?: (bytesRead: number) => void): AsyncGenerator<ReadItem> {
  for await (const item of parquetRecords(source, file, [textField], [], onRawBytes)) {
    yield item.kind !== 'record' ? item : textFromRecord(source, item, item.record, textField);
  }
}
