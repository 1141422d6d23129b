/**
 * The write stage: one unit per shard. It carries out a shard's planned rows (src/plan/reduce.ts):
 * for each row it reads the pieces' tokens from the census units' token files, lays out
 * `input_ids`, `position_ids` and provenance, and writes one Arrow IPC stream shard under a
 * temporary name. Memory: one record batch (`rowsPerBatch` rows).
 */
import type { RowPlan, ShardPlanned } from '../plan/reduce.ts';
import { ShardWriter, type ShardInfo } from '../shard/writer.ts';
import { safeRowsPerBatch } from '../shard/limits.ts';
import { shardSchema, type RowRecord } from '../shard/schema.ts';

/** Reads tokens `[offsetTokens, offsetTokens + target.length)` of census unit `unit`'s token file into `target`. */
export type ReadTokens = (unit: number, offsetTokens: number, target: Int32Array) => Promise<void>;

/** Options of the write stage. */
export interface WriteOptions {
  rowTokens: number;
  padId: number;
  /** `full`: long rows get one continuous position range and one doc_lens entry. */
  longRowAttention: 'document' | 'full';
  rowsPerBatch: number;
  /** The tokenizer's vocabulary size: the writer refuses a token id at or above it. */
  vocabSize: number;
  /** Largest shard file, bytes; default `MAX_SHARD_BYTES` (src/shard/limits.ts). Tests inject a small one. */
  maxShardBytes?: number;
  /** JSON stored in every shard's schema metadata. */
  shardMetadata: Record<string, unknown>;
  /** Called after each written row with the number of rows this shard has written so far. */
  onRow?: (rowsWritten: number) => void;
}

/**
 * Lays out one row: pieces' tokens in order, then padding (`padId`, position 0 each).
 * Document attention: positions `0..len-1` per piece, one `doc_lens` entry per piece.
 * Full attention (long rows only): positions `0..used-1` over the row, one `doc_lens` entry.
 */
export async function layoutRow(
  row: RowPlan,
  readTokens: ReadTokens,
  options: Pick<WriteOptions, 'rowTokens' | 'padId' | 'longRowAttention'>,
): Promise<RowRecord> {
  const { rowTokens } = options;
  const inputIds = new Int32Array(rowTokens).fill(options.padId);
  const positionIds = new Int32Array(rowTokens); // padding positions stay 0
  const record: RowRecord = {
    rowId: row.rowId,
    window: row.window,
    inputIds,
    positionIds,
    docLens: [],
    numPad: row.numPad,
    pieceLens: [],
    pieceSource: [],
    pieceDocId: [],
    pieceStart: [],
    pieceRepeat: [],
    piecePart: [],
    pieceParts: [],
  };
  const full = row.window === 'long' && options.longRowAttention === 'full';
  let at = 0;
  for (const piece of row.pieces) {
    await readTokens(piece.unit, piece.offsetTokens, inputIds.subarray(at, at + piece.lengthTokens));
    for (let i = 0; i < piece.lengthTokens; i++) positionIds[at + i] = full ? at + i : i;
    at += piece.lengthTokens;
    record.pieceLens.push(piece.lengthTokens);
    record.pieceSource.push(piece.source);
    record.pieceDocId.push(piece.docId);
    record.pieceStart.push(piece.startToken);
    record.pieceRepeat.push(piece.repeat);
    record.piecePart.push(piece.part);
    record.pieceParts.push(piece.parts);
  }
  record.docLens = full ? [at] : record.pieceLens.slice();
  return record;
}

/**
 * Writes one planned shard to `tmpPath` (fsynced), rows in position order, in record batches of
 * `rowsPerBatch` rows. On any failure the temporary file is removed.
 * @returns the shard's info, named `shard.file`.
 * @throws ConfigError naming the shard when its bytes would pass `maxShardBytes`; InvariantError
 *   naming the shard and row when a laid-out row is malformed (a token id outside the vocabulary).
 */
export async function writeShard(shard: ShardPlanned, readTokens: ReadTokens, tmpPath: string, options: WriteOptions): Promise<ShardInfo> {
  const schema = shardSchema(options.rowTokens, options.shardMetadata);
  const rowsPerBatch = safeRowsPerBatch(options.rowsPerBatch, options.rowTokens);
  const writer = new ShardWriter(tmpPath, shard.file, schema, options.rowTokens, shard.rank, {
    vocabSize: options.vocabSize,
    maxBytes: options.maxShardBytes,
  });
  let written = 0;
  try {
    for (let start = 0; start < shard.rows.length; start += rowsPerBatch) {
      const batch: RowRecord[] = [];
      for (const row of shard.rows.slice(start, start + rowsPerBatch)) {
        batch.push(await layoutRow(row, readTokens, options));
        options.onRow?.(++written);
      }
      writer.write(batch);
    }
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return writer.close();
}
