/**
 * Parquet reader (hyparquet + hyparquet-compressors: snappy, gzip, zstd, brotli, lz4). Reads
 * only the text column, one row group at a time, so memory is bounded by the largest row group's
 * text (measured in ../shared/LIBRARIES.md §2: 397 MB peak on a 685 MB-text file).
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { ReadItem } from '../core/doc.ts';
import { InputError } from '../core/errors.ts';
import type { InputFile } from './files.ts';
import { textFromRecord } from './record.ts';

/**
 * Reads one Parquet file of `source`, yielding documents (ids `<relPath>#<row>`, 0-based rows).
 * @throws InputError when the file is not Parquet or lacks the text column.
 */
export async function* readParquet(
  source: string,
  file: InputFile,
  textField: string,
  onRawBytes?: (bytesRead: number) => void,
): AsyncGenerator<ReadItem> {
  const buffer = await asyncBufferFromFile(file.absPath);
  let metadata;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    throw new InputError(`${file.relPath}: not a readable Parquet file: ${(error as Error).message}`, { source, file: file.relPath }, { cause: error });
  }
  const columns = metadata.schema.slice(1).map((element) => element.name);
  if (!columns.includes(textField)) {
    throw new InputError(`${file.relPath}: Parquet file has no column "${textField}" (columns: ${columns.join(', ')}); set the source's textField`, { source, file: file.relPath });
  }
  let rowStart = 0;
  for (const rowGroup of metadata.row_groups) {
    const rowEnd = rowStart + Number(rowGroup.num_rows);
    const rows = await parquetReadObjects({ file: buffer, metadata, columns: [textField], rowStart, rowEnd, compressors });
    for (let i = 0; i < rows.length; i++) yield textFromRecord(source, `${file.relPath}#${rowStart + i}`, rows[i], textField);
    rowStart = rowEnd;
    onRawBytes?.(Math.round((file.sizeBytes * rowStart) / Math.max(1, Number(metadata.num_rows))));
  }
}
