/**
 * Page-wise reading of one column chunk of a Parquet file, so that memory is bounded by a page,
 * not by a row group (a row group of 200 MB of text is common in files written by DuckDB or with
 * large `row_group_size`). Pages are decoded by hyparquet's own page decoder
 * (`hyparquet/src/column.js` `parquetHeader` and `readPage`, the functions its `readColumn` runs
 * over a whole chunk); the chunk's bytes are fetched in read-ahead blocks of
 * {@link READ_AHEAD_BYTES} (one range request per block for a hub file).
 *
 * Memory: one read-ahead block, plus one page compressed, decompressed and decoded, plus the
 * column's dictionary page. A page whose header says it holds more than
 * {@link MAX_PARQUET_PAGE_BYTES} (compressed or not) is refused before it is read. Only flat
 * columns (no lists or structs) are read this way.
 *
 * A page's CRC-32 (Parquet `PageHeader.crc`, over the page's stored bytes) is checked when the
 * writer recorded one (pyarrow `write_page_checksum`; most writers leave it out, and then a flipped
 * byte can only be caught by the codec).
 *
 * Every problem in the chunk (a page past the chunk's end, a header or page that does not decode,
 * a CRC mismatch, values that do not add up to the row group's rows) is a {@link PageError} carrying the byte
 * offset of the page in the file.
 */
import { crc32 } from 'node:zlib';
import type { AsyncBuffer, ColumnMetaData, DecodedArray, PageHeader, ParquetParsers, SchemaTree } from 'hyparquet';
import { parquetHeader, readPage } from 'hyparquet/src/column.js';
import { convert, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { compressors } from 'hyparquet-compressors';

/**
 * Largest Parquet page read, bytes (64 MiB, compressed or uncompressed; the same bound as the
 * longest JSONL line, src/read/jsonl.ts `MAX_LINE_BYTES`). Writers aim at 1 MiB pages (pyarrow,
 * arrow-rs); a page only passes that when one value does. Reading a page costs about 4 times its
 * size (compressed, decompressed, decoded bytes and strings).
 */
export const MAX_PARQUET_PAGE_BYTES = 64 * 1024 * 1024;

/** Bytes fetched at a time from a column chunk (4 MiB; a page larger than that is fetched whole). */
export const READ_AHEAD_BYTES = 4 * 1024 * 1024;

/** Largest page header tried, bytes (headers with page statistics of long values can be large). */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/** A column chunk that cannot be read: `byteOffset` is the file offset of the page (or chunk) at fault. */
export class PageError extends Error {
  /**
   * @param message - what is wrong, without the file name.
   * @param byteOffset - offset in the file, bytes, 0-based.
   * @param tooLarge - true when the page is well-formed but above {@link MAX_PARQUET_PAGE_BYTES}.
   * @param options - `cause` of a wrapped error.
   */
  constructor(
    message: string,
    readonly byteOffset: number,
    readonly tooLarge = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PageError';
  }
}

/** Bytes of `[start, end)` of a file, fetched in read-ahead blocks. */
class ChunkBytes {
  private block = new Uint8Array(0);
  private blockStart = 0;

  constructor(
    private readonly file: AsyncBuffer,
    readonly start: number,
    readonly end: number,
  ) {}

  /** Bytes `[at, at + n)`, clamped to the chunk's end. */
  async get(at: number, n: number): Promise<Uint8Array> {
    const stop = Math.min(at + n, this.end);
    if (at < this.blockStart || stop > this.blockStart + this.block.length) {
      const fetchEnd = Math.min(this.end, Math.max(stop, at + READ_AHEAD_BYTES));
      this.block = new Uint8Array(await this.file.slice(at, fetchEnd));
      this.blockStart = at;
      if (this.block.length !== fetchEnd - at) throw new PageError(`read ${this.block.length} of the ${fetchEnd - at} bytes at ${at}`, at);
    }
    return this.block.subarray(at - this.blockStart, stop - this.blockStart);
  }
}

/** The page header at `at` and its length, trying larger windows for large headers. */
async function pageHeader(bytes: ChunkBytes, at: number): Promise<{ header: PageHeader; length: number }> {
  for (let window = 64 * 1024; ; window *= 4) {
    const view = await bytes.get(at, window);
    const reader = { view: new DataView(view.buffer, view.byteOffset, view.byteLength), offset: 0 };
    try {
      const header = parquetHeader(reader);
      if (reader.offset > view.length) throw new RangeError('header runs past the data');
      return { header, length: reader.offset };
    } catch (error) {
      if (at + view.length >= bytes.end || window >= MAX_HEADER_BYTES) {
        throw new PageError(`page header does not decode: ${(error as Error).message}`, at, false, { cause: error });
      }
    }
  }
}

/** What a column chunk's reader needs. */
export interface ColumnChunkSpec {
  meta: ColumnMetaData;
  /** Schema path of the column (root first), from hyparquet's `getTreePath`. */
  schemaPath: SchemaTree[];
  /** Rows of the row group. */
  rows: number;
  parsers: Partial<ParquetParsers>;
  utf8: boolean;
  /** Largest page read, bytes; default {@link MAX_PARQUET_PAGE_BYTES}. */
  maxPageBytes?: number;
}

type ColumnDecoder = Parameters<typeof readPage>[2];

/** The decoder hyparquet's `readPage` takes for a column (as its `readRowGroup` builds it). */
function columnDecoder(spec: ColumnChunkSpec): ColumnDecoder {
  return {
    pathInSchema: spec.meta.path_in_schema,
    element: spec.schemaPath[spec.schemaPath.length - 1].element,
    schemaPath: spec.schemaPath,
    type: spec.meta.type,
    codec: spec.meta.codec,
    compressors,
    utf8: spec.utf8,
    parsers: { ...DEFAULT_PARSERS, ...spec.parsers },
  };
}

/**
 * The values of one flat column chunk, one decoded page at a time (nulls as `undefined`/`null`,
 * as hyparquet gives them); their count is the row group's rows.
 * @throws PageError (see the header).
 */
export async function* columnPages(file: AsyncBuffer, spec: ColumnChunkSpec): AsyncGenerator<DecodedArray> {
  const { meta } = spec;
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  const bytes = new ChunkBytes(file, start, start + Number(meta.total_compressed_size));
  const decoder = columnDecoder(spec);
  let dictionary: DecodedArray | undefined;
  let values = 0;
  let at = start;
  while (values < spec.rows) {
    const pageAt = at;
    if (at >= bytes.end) throw new PageError(`the column chunk ends after ${values} of its ${spec.rows} values`, at);
    const { header, length } = await pageHeader(bytes, at);
    const size = Math.max(header.compressed_page_size, header.uncompressed_page_size);
    if (!(header.compressed_page_size >= 0) || at + length + header.compressed_page_size > bytes.end) {
      throw new PageError(`the page (${header.compressed_page_size} bytes) runs past the end of its column chunk at byte ${bytes.end}`, at);
    }
    const limit = spec.maxPageBytes ?? MAX_PARQUET_PAGE_BYTES;
    if (size > limit) throw new PageError(`a page of ${size} bytes, above the ${limit}-byte limit (MAX_PARQUET_PAGE_BYTES)`, at, true);
    const count = header.data_page_header_v2?.num_rows ?? header.data_page_header?.num_values ?? 0;
    if (header.type !== 'DICTIONARY_PAGE' && (count <= 0 || values + count > spec.rows)) {
      throw new PageError(`a page of ${count} values where ${spec.rows - values} of the row group's ${spec.rows} remain`, at);
    }
    const body = await bytes.get(at + length, header.compressed_page_size);
    if (header.crc !== undefined && crc32(body) !== header.crc >>> 0) {
      throw new PageError(
        `the page's CRC-32 ${(header.crc >>> 0).toString(16)} does not match its data (${crc32(body).toString(16)}): the data is corrupt`,
        at,
      );
    }
    let data: DecodedArray | undefined;
    try {
      const reader = { view: new DataView(body.buffer, body.byteOffset, body.byteLength), offset: 0 };
      data = readPage(reader, header, decoder, dictionary, undefined, 0).data;
    } catch (error) {
      throw new PageError(`the ${header.type} page does not decode: ${(error as Error).message}`, at, false, { cause: error });
    }
    at += length + header.compressed_page_size;
    if (header.type === 'DICTIONARY_PAGE') {
      dictionary = data && convert(data, decoder);
      continue;
    }
    if (!data || data.length !== count) throw new PageError(`a page decoded to ${data?.length ?? 0} values, its header says ${count}`, pageAt);
    values += count;
    yield data;
  }
}
