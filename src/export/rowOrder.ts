/**
 * Every row of a build in training (`row_id`) order, whatever order the native shards hold them
 * in. Native shards are cut per rank (docs/format.md §5), so the rows of one global batch are
 * spread over `worldSize` shards; an export in row order therefore reads each native shard once,
 * appends each row to a scratch file in arrival order, and reads the scratch back by `row_id`.
 *
 * Scratch record of one row (little-endian): `u32` byte length of a JSON array of the row's small
 * fields, that JSON (UTF-8), then `input_ids` and `position_ids` as `rowTokens` int32 each.
 * The same bytes are the row's canonical encoding ({@link encodeRow}): two rows are equal in every
 * column iff their encodings are equal, so a SHA-256 of it stands for the row in checks.
 *
 * Memory: the row being copied, plus 12 bytes per row (offset, length) for the index.
 */
import { createHash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { InvariantError } from '../core/errors.ts';
import type { RowRecord } from '../shard/schema.ts';
import type { NativeBuild } from './index.ts';

const U32_BYTES = 4;

/** The row's small fields, in a fixed order (JSON array; strings as JSON escapes them). */
function smallFields(row: RowRecord): unknown[] {
  return [
    row.rowId,
    row.window,
    row.numPad,
    row.docLens,
    row.pieceLens,
    row.pieceSource,
    row.pieceDocId,
    row.pieceStart,
    row.pieceRepeat,
    row.piecePart,
    row.pieceParts,
  ];
}

/** The canonical bytes of a row (the scratch record in the file header). */
export function encodeRow(row: RowRecord): Uint8Array {
  const json = Buffer.from(JSON.stringify(smallFields(row)), 'utf8');
  const tokens = row.inputIds.length;
  const out = Buffer.alloc(U32_BYTES + json.length + 8 * tokens);
  out.writeUInt32LE(json.length, 0);
  json.copy(out, U32_BYTES);
  const ids = Buffer.from(row.inputIds.buffer, row.inputIds.byteOffset, 4 * tokens);
  const pos = Buffer.from(row.positionIds.buffer, row.positionIds.byteOffset, 4 * tokens);
  ids.copy(out, U32_BYTES + json.length);
  pos.copy(out, U32_BYTES + json.length + 4 * tokens);
  return out;
}

/** The row behind {@link encodeRow}'s bytes; `rowTokens` = length of its token columns. */
export function decodeRow(bytes: Uint8Array, rowTokens: number): RowRecord {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonBytes = buffer.readUInt32LE(0);
  const [rowId, window, numPad, docLens, pieceLens, pieceSource, pieceDocId, pieceStart, pieceRepeat, piecePart, pieceParts] = JSON.parse(
    buffer.toString('utf8', U32_BYTES, U32_BYTES + jsonBytes),
  ) as [number, 'short' | 'long', number, number[], number[], string[], string[], number[], number[], number[], number[]];
  const tokens = new Int32Array(2 * rowTokens);
  Buffer.from(tokens.buffer).set(buffer.subarray(U32_BYTES + jsonBytes, U32_BYTES + jsonBytes + 8 * rowTokens));
  return {
    rowId,
    window,
    numPad,
    docLens,
    inputIds: tokens.subarray(0, rowTokens),
    positionIds: tokens.subarray(rowTokens),
    pieceLens,
    pieceSource,
    pieceDocId,
    pieceStart,
    pieceRepeat,
    piecePart,
    pieceParts,
  };
}

/** SHA-256 (hex) of a row's canonical bytes. */
export function rowDigest(row: RowRecord): string {
  return createHash('sha256').update(encodeRow(row)).digest('hex');
}

/** Rows of a build held in a scratch file, readable by `row_id`. */
export interface RowsInOrder {
  /** Rows in the build (`manifest.rows.total`); ids are exactly `0..count-1`. */
  count: number;
  /** Yields rows `[start, end)` by `row_id`, one at a time. */
  rows(start: number, end: number): AsyncGenerator<RowRecord>;
  /** Closes and removes the scratch file. */
  close(): Promise<void>;
}

/**
 * Reads every native shard of `native` once into the scratch file `scratchFile` (created, and
 * removed by `close()` or on failure), checking that the row ids are exactly `0..rows-1`.
 * @throws InvariantError naming the shard and row of a row id outside the build, a repeated one, or a missing one.
 */
export async function openRowsInOrder(native: NativeBuild, scratchFile: string): Promise<RowsInOrder> {
  const count = native.manifest.rows.total;
  const at = new Float64Array(count).fill(-1);
  const size = new Uint32Array(count);
  const handle: FileHandle = await open(scratchFile, 'w+');
  const close = async () => {
    await handle.close().catch(() => undefined);
    await rm(scratchFile, { force: true });
  };
  try {
    let end = 0;
    for await (const shard of native.shards()) {
      let k = 0;
      for (const row of shard.rows) {
        const where = `${shard.info.file} row ${k} (row_id ${row.rowId})`;
        if (!(Number.isInteger(row.rowId) && row.rowId >= 0 && row.rowId < count))
          throw new InvariantError(`${where}: row_id outside [0, ${count})`, { file: shard.info.file, row: k });
        if (at[row.rowId] !== -1) throw new InvariantError(`${where}: row_id appears twice in the build`, { file: shard.info.file, row: k });
        const bytes = encodeRow(row);
        await handle.write(bytes, 0, bytes.length, end);
        at[row.rowId] = end;
        size[row.rowId] = bytes.length;
        end += bytes.length;
        k++;
      }
    }
    const missing = at.indexOf(-1);
    if (missing >= 0) throw new InvariantError(`row_id ${missing} is in no shard of the build (manifest says ${count} rows)`, { row: missing });
  } catch (error) {
    await close();
    throw error;
  }
  const { rowTokens } = native.manifest.geometry;
  async function* rows(start: number, end: number): AsyncGenerator<RowRecord> {
    for (let id = start; id < end; id++) {
      const bytes = Buffer.alloc(size[id]);
      await handle.read(bytes, 0, bytes.length, at[id]);
      yield decodeRow(bytes, rowTokens);
    }
  }
  return { count, rows, close };
}
