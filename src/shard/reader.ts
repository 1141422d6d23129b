/**
 * Reads rows back from an Arrow IPC stream shard (apache-arrow), batch by batch.
 */
import { readFile } from 'node:fs/promises';
import { RecordBatchStreamReader, type RecordBatch, type Vector } from 'apache-arrow';
import { InvariantError } from '../core/errors.ts';
import type { RowRecord } from './schema.ts';

/** The flat Int32 values behind a FixedSizeList<Int32> vector of one batch. */
function flatInt32(vector: Vector, listSize: number): Int32Array {
  const data = vector.data[0];
  const child = data.children[0];
  const values = child.values as Int32Array;
  return values.subarray(child.offset + data.offset * listSize, child.offset + (data.offset + data.length) * listSize);
}

function column(batch: RecordBatch, name: string, file: string): Vector {
  const vector = batch.getChild(name);
  if (!vector) throw new InvariantError(`${file}: shard has no column "${name}"`, { file });
  return vector;
}

/** Converts one list cell (an Arrow vector or array) to a plain array. */
function cells<T>(value: unknown): T[] {
  return value == null ? [] : (Array.from(value as Iterable<T>) as T[]);
}

/** Reads a shard file's bytes. */
export async function readShardBytes(file: string): Promise<Uint8Array> {
  return readFile(file);
}

/**
 * The record batches of `reader`, with a parse failure part-way through the stream (a truncated
 * or damaged file) turned into an InvariantError naming `file`.
 */
export function* readableBatches(reader: Iterable<RecordBatch>, file: string): Generator<RecordBatch> {
  const batches = reader[Symbol.iterator]();
  for (let index = 0; ; index++) {
    let next: IteratorResult<RecordBatch>;
    try {
      next = batches.next();
    } catch (error) {
      throw new InvariantError(
        `${file}: record batch ${index} cannot be read (truncated or damaged Arrow IPC stream): ${(error as Error).message}`,
        { file },
        { cause: error },
      );
    }
    if (next.done) return;
    yield next.value;
  }
}

/**
 * Yields the rows of a shard held in `bytes`, in file order.
 * @param file - for messages only.
 * @throws InvariantError when the stream cannot be parsed or a column is missing.
 */
export function* shardRows(bytes: Uint8Array, file: string): Generator<RowRecord> {
  let reader;
  try {
    reader = RecordBatchStreamReader.from(bytes);
  } catch (error) {
    throw new InvariantError(`${file}: not an Arrow IPC stream: ${(error as Error).message}`, { file }, { cause: error });
  }
  for (const batch of readableBatches(reader, file)) {
    const inputType = batch.schema.fields.find((f) => f.name === 'input_ids')?.type as { listSize?: number } | undefined;
    const rowTokens = inputType?.listSize ?? 0;
    const inputIds = flatInt32(column(batch, 'input_ids', file), rowTokens);
    const positionIds = flatInt32(column(batch, 'position_ids', file), rowTokens);
    const cols = [
      'doc_lens',
      'window',
      'num_pad',
      'row_id',
      'piece_lens',
      'piece_source',
      'piece_doc_id',
      'piece_start',
      'piece_repeat',
      'piece_part',
      'piece_parts',
    ].map((n) => column(batch, n, file));
    for (let i = 0; i < batch.numRows; i++) {
      yield {
        inputIds: inputIds.subarray(i * rowTokens, (i + 1) * rowTokens),
        positionIds: positionIds.subarray(i * rowTokens, (i + 1) * rowTokens),
        docLens: cells<number>(cols[0].get(i)),
        window: cols[1].get(i) as 'short' | 'long',
        numPad: cols[2].get(i) as number,
        rowId: cols[3].get(i) as number,
        pieceLens: cells<number>(cols[4].get(i)),
        pieceSource: cells<string>(cols[5].get(i)),
        pieceDocId: cells<string>(cols[6].get(i)),
        pieceStart: cells<number>(cols[7].get(i)),
        pieceRepeat: cells<number>(cols[8].get(i)),
        piecePart: cells<number>(cols[9].get(i)),
        pieceParts: cells<number>(cols[10].get(i)),
      };
    }
  }
}
