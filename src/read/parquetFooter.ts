/**
 * The footer of a Parquet file (`PAR1` … metadata, 4-byte metadata length, `PAR1`; Apache Parquet
 * format specification, "File Format"), read with hyparquet after checks that name what is wrong
 * and where: a file too short to be Parquet, another format (a compressed file named `.parquet`),
 * a truncated file (the trailing `PAR1` missing), a metadata length past the file, metadata that
 * does not decode, and column chunks outside the file's data.
 */
import { parquetMetadataAsync, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { CorruptInputError, PipelineError } from '../core/errors.ts';
import { compressionOf } from './compression.ts';

const MAGIC = 0x31524150; // "PAR1", little-endian

/** Smallest Parquet file, bytes: `PAR1`, a 4-byte metadata length, `PAR1`, and at least one byte of metadata. */
export const MIN_PARQUET_BYTES = 13;

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');

/**
 * Reads and checks the footer of the non-empty Parquet file `buffer`, named `relPath` in messages.
 * @throws CorruptInputError (no record read) naming the byte offset of the problem: the file is too
 *   short, does not start or end with `PAR1`, its metadata length points outside it, its metadata
 *   does not decode, or a column chunk lies outside its data; errors of `buffer.slice` as thrown.
 */
export async function readParquetFooter(buffer: AsyncBuffer, relPath: string): Promise<FileMetaData> {
  const size = buffer.byteLength;
  const corrupt = (message: string, at: number, cause?: unknown) =>
    new CorruptInputError(`${relPath}: not a readable Parquet file: ${message} (byte ${at})`, relPath, at, 0, { cause });
  if (size < MIN_PARQUET_BYTES) throw corrupt(`${size} bytes, too short to be Parquet (at least ${MIN_PARQUET_BYTES}: PAR1, metadata, its length, PAR1)`, 0);
  const head = new Uint8Array(await buffer.slice(0, 16));
  const tail = new DataView(await buffer.slice(size - 8, size));
  if (new DataView(head.buffer).getUint32(0, true) !== MAGIC) {
    const format = compressionOf(head);
    const what = format
      ? `it is ${format.name}-compressed (magic ${hex(head.subarray(0, 4))}); decompress it`
      : `it starts with ${hex(head.subarray(0, 4))}, not PAR1`;
    throw corrupt(what, 0);
  }
  if (tail.getUint32(4, true) !== MAGIC) throw corrupt('it does not end with PAR1: the file is truncated or was not written to the end', size - 4);
  const metadataLength = tail.getUint32(0, true);
  const metadataStart = size - 8 - metadataLength;
  if (metadataLength === 0 || metadataStart < 4)
    throw corrupt(`its footer gives a metadata length of ${metadataLength} bytes, which does not fit in the file`, size - 8);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    if (error instanceof PipelineError) throw error; // a remote read that failed, not the file's bytes
    throw corrupt(`its footer metadata does not decode: ${(error as Error).message}`, metadataStart, error);
  }
  metadata.row_groups.forEach((rowGroup, g) => {
    for (const chunk of rowGroup.columns) {
      const meta = chunk.meta_data;
      if (!meta) throw corrupt(`row group ${g} has a column chunk without metadata`, metadataStart);
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
      const end = start + Number(meta.total_compressed_size);
      if (!(start >= 4 && end <= metadataStart && end > start)) {
        throw corrupt(
          `row group ${g}, column "${meta.path_in_schema.join('.')}": its data [${start}, ${end}) lies outside the file's data [4, ${metadataStart})`,
          metadataStart,
        );
      }
    }
  });
  return metadata;
}
