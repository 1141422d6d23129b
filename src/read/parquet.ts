/**
 * Parquet reader (hyparquet + hyparquet-compressors: snappy, gzip, zstd, brotli, lz4). Reads only
 * the columns asked for, row group by row group and page by page (src/read/parquetPages.ts), so
 * memory is bounded by one page per column (at most `MAX_PARQUET_PAGE_BYTES`) plus a 4 MiB
 * read-ahead block, whatever the size of a row group. A 0-byte file is no Parquet file (corrupt).
 */
import { asyncBufferFromFile, parquetSchema, type AsyncBuffer, type DecodedArray, type FileMetaData } from 'hyparquet';
import { getTreePath, isFlatColumn } from 'hyparquet/src/schema.js';
import { compressors } from 'hyparquet-compressors';
import type { ReadItem } from '../core/doc.ts';
import { CorruptInputError, InputError } from '../core/errors.ts';
import { cachePath, hubRangeReader, isCached } from './hub/client.ts';
import { remoteOptions, type InputFile } from './files.ts';
import type { RecordItem } from './jsonl.ts';
import { readParquetFooter } from './parquetFooter.ts';
import { columnPages, PageError } from './parquetPages.ts';
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
 * The bytes of a Parquet file for hyparquet: a local one from disk; a hub file from its complete
 * copy in the download cache when there is one (so a warm cache needs no network), else by HTTP
 * range requests (only the footer and the columns read are fetched, nothing is cached).
 */
export async function openParquetBuffer(file: InputFile): Promise<AsyncBuffer> {
  if (!file.hub || file.absPath) return asyncBufferFromFile(file.absPath);
  const options = remoteOptions(file);
  const cached = cachePath(options.cacheDir, file.hub);
  return (await isCached(cached, file.hub)) ? asyncBufferFromFile(cached) : hubRangeReader(file.hub, options);
}

/**
 * The metadata of a Parquet file.
 * @throws CorruptInputError (byte 0) for a 0-byte file, which is no Parquet file (one ends with its
 *   footer and the magic `PAR1`): the sign of a broken download; see {@link readParquetFooter} for the rest.
 */
export async function parquetFileMetadata(file: InputFile, buffer?: AsyncBuffer): Promise<FileMetaData> {
  buffer ??= await openParquetBuffer(file);
  if (buffer.byteLength === 0)
    throw new CorruptInputError(
      `${file.relPath}: 0 bytes long, not a Parquet file (one ends with its footer and "PAR1"); a broken download: fetch it again`,
      file.relPath,
      0,
      0,
    );
  return readParquetFooter(buffer, file.relPath);
}

/** A column being read page by page: the current page and the next value in it. */
interface Cursor {
  name: string;
  pages: AsyncGenerator<DecodedArray>;
  page: DecodedArray;
  next: number;
}

/**
 * Reads the given columns of one Parquet file, row group by row group and page by page, as records
 * (`where` = `<relPath>#<row>`, 0-based rows). Columns in `optional` are read when present and flat.
 * A 0-byte file is corrupt (see {@link parquetFileMetadata}).
 * @throws InputError when a required column is missing or nested (a list or struct), or when a page
 *   is above `MAX_PARQUET_PAGE_BYTES`; CorruptInputError (file, byte offset, records yielded so far)
 *   when the file is too short, truncated, or a footer or page does not decode.
 */
export async function* parquetRecords(
  source: string,
  file: InputFile,
  required: readonly string[],
  optional: readonly string[] = [],
  onRawBytes?: (bytesRead: number) => void,
): AsyncGenerator<RecordItem> {
  const buffer = await openParquetBuffer(file);
  const metadata = await parquetFileMetadata(file, buffer);
  const schema = parquetSchema(metadata);
  const present = new Map(schema.children.map((child) => [child.element.name, child]));
  const flat = (name: string) => isFlatColumn(getTreePath(schema, [name]));
  for (const column of required) {
    if (!present.has(column)) {
      throw new InputError(`${file.relPath}: Parquet file has no column "${column}" (columns: ${[...present.keys()].join(', ')}); set the source's textField`, {
        source,
        file: file.relPath,
      });
    }
    if (!flat(column)) {
      throw new InputError(`${file.relPath}: Parquet column "${column}" is a list or struct; expected a string column`, { source, file: file.relPath });
    }
  }
  const columns = [...required, ...optional.filter((c) => present.has(c) && !required.includes(c) && flat(c))];
  let rowStart = 0;
  let recordsRead = 0;
  for (const [g, rowGroup] of metadata.row_groups.entries()) {
    const rows = Number(rowGroup.num_rows);
    const cursors: Cursor[] = columns.map((name) => {
      const meta = rowGroup.columns.find((c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === name)?.meta_data;
      if (!meta)
        throw new CorruptInputError(
          `${file.relPath}: row group ${g} has no data for column "${name}", after ${recordsRead} records`,
          file.relPath,
          0,
          recordsRead,
        );
      if (meta.codec !== 'UNCOMPRESSED' && !(meta.codec in compressors)) {
        throw new InputError(
          `${file.relPath}: row group ${g}, column "${name}" is compressed with ${meta.codec}, which the Parquet reader does not decode (supported: UNCOMPRESSED, ${Object.keys(compressors).join(', ')}); rewrite the file with zstd or snappy`,
          { source, file: file.relPath, codec: meta.codec },
        );
      }
      const spec = { meta, schemaPath: getTreePath(schema, [name]), rows, utf8: false, parsers: { stringFromBytes: (bytes: Uint8Array) => bytes } };
      // utf8: false and a raw stringFromBytes: byte arrays, UTF-8-annotated or not, come back raw and
      // are decoded here strictly, so invalid UTF-8 is a located bad record instead of silent U+FFFD.
      return { name, pages: columnPages(buffer, spec), page: [], next: 0 };
    });
    const broken = (cursor: Cursor, error: unknown): Error => {
      const group = `${file.relPath}: row group ${g} (rows ${rowStart}..${rowStart + rows - 1}), column "${cursor.name}"`;
      // A remote read that failed (the file changed since it was listed, the network): located, not corrupt.
      if (error instanceof InputError) return new InputError(`${group}: ${error.message}`, { ...error.context, source, file: file.relPath }, { cause: error });
      if (!(error instanceof PageError)) return error as Error;
      const at = `${group}, page at byte ${error.byteOffset}`;
      if (error.tooLarge) return new InputError(`${at}: ${error.message}`, { source, file: file.relPath, byteOffset: error.byteOffset });
      return new CorruptInputError(`${at}, after ${recordsRead} records: ${error.message}`, file.relPath, error.byteOffset, recordsRead, { cause: error });
    };
    for (let i = 0; i < rows; i++) {
      const row: Record<string, unknown> = {};
      for (const cursor of cursors) {
        if (cursor.next === cursor.page.length) {
          try {
            const next = await cursor.pages.next();
            if (next.done) throw new PageError(`the column ended after ${i} of ${rows} rows`, 0);
            cursor.page = next.value;
            cursor.next = 0;
          } catch (error) {
            throw broken(cursor, error);
          }
        }
        row[cursor.name] = cursor.page[cursor.next++];
      }
      const where = `${file.relPath}#${rowStart + i}`;
      const bad = decodeStrings(row);
      recordsRead++;
      if (bad) yield { kind: 'bad', bad: { source, reason: 'invalid_utf8', where, detail: `column "${bad}" is not valid UTF-8` } };
      else yield { kind: 'record', record: row, where, idWhere: `${file.idPath}#${rowStart + i}`, position: rowStart + i };
    }
    rowStart += rows;
    onRawBytes?.(Math.round((file.sizeBytes * rowStart) / Math.max(1, Number(metadata.num_rows))));
  }
}

/**
 * Reads one Parquet file of `source`, yielding documents (ids `<idPath>#<row>`, 0-based rows).
 * @throws InputError and CorruptInputError as {@link parquetRecords}.
 */
export async function* readParquet(source: string, file: InputFile, textField: string, onRawBytes?: (bytesRead: number) => void): AsyncGenerator<ReadItem> {
  for await (const item of parquetRecords(source, file, [textField], [], onRawBytes)) {
    yield item.kind !== 'record' ? item : textFromRecord(source, item, item.record, textField);
  }
}
