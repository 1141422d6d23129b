/**
 * Size limits of a shard file, and the byte estimates the planner sizes shards with.
 *
 * Limits: Arrow arrays with 32-bit offsets and lengths hold at most 2^31 − 1 values; a file of
 * more than 2^31 − 1 bytes cannot be read by Node's `fs.readFile` (ERR_FS_FILE_TOO_LARGE), by
 * readers with signed 32-bit offsets, and by many tools. The writer enforces the byte limit on
 * the bytes it actually writes (src/shard/writer.ts); the planner sizes shards with the estimates
 * below, which are upper bounds for the layout apache-arrow 21 writes (measured: schema message
 * and end marker about 1.3 KB plus the metadata JSON; about 1.4 KB of message header and buffer
 * padding per record batch; 96 bytes of fixed columns and list offsets per row; 32 bytes per
 * piece plus its source name and document id).
 */
import { ConfigError } from '../core/errors.ts';

/** Largest number of values an Arrow array may hold here (int32 offsets and lengths). */
export const MAX_ARROW_VALUES = 2 ** 31 - 1;
/** Largest shard, bytes (2^31 − 1): `fs.readFile` and readers with 32-bit offsets stop there. */
export const MAX_SHARD_BYTES = 2 ** 31 - 1;
/** Estimate of a shard's bytes besides its record batches: schema message, metadata JSON, end marker. */
export const SHARD_HEADER_BYTES = 16 * 1024;
/** Estimate of a record batch's bytes besides its rows: message header and buffer padding. */
export const BATCH_HEADER_BYTES = 2048;
/** Estimate of a row's bytes besides its token columns and pieces: num_pad, row_id, window, list offsets. */
export const ROW_FIXED_BYTES = 128;

/** UTF-8 bytes of a string. */
const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * Provenance bytes of one piece: `piece_lens`, `piece_start`, `piece_repeat`, `piece_part`,
 * `piece_parts`, a `doc_lens` entry and the two string offsets (int32 each), plus the UTF-8 bytes
 * of its source name and document id.
 */
export function pieceBytes(source: string, docId: string): number {
  return 8 * 4 + utf8Bytes(source) + utf8Bytes(docId);
}

/**
 * Bytes one row takes in a shard: `input_ids` and `position_ids` (4 bytes per token each), the
 * fixed columns, and `provenanceBytes` (the sum of {@link pieceBytes} over its pieces).
 */
export function rowBytes(rowTokens: number, provenanceBytes = 0): number {
  return 8 * rowTokens + ROW_FIXED_BYTES + provenanceBytes;
}

/**
 * Estimated bytes of a shard of rows of `rowSizes` bytes (each a {@link rowBytes}) written in
 * record batches of `rowsPerBatch` rows.
 */
export function shardBytes(rowSizes: readonly number[], rowsPerBatch: number): number {
  return SHARD_HEADER_BYTES + Math.ceil(rowSizes.length / rowsPerBatch) * BATCH_HEADER_BYTES + rowSizes.reduce((s, x) => s + x, 0);
}

/**
 * Rows per record batch that keep every column under {@link MAX_ARROW_VALUES} values.
 * @returns `min(wanted, floor((2^31 − 1) / rowTokens))`.
 * @throws ConfigError when even one row exceeds the limit.
 */
export function safeRowsPerBatch(wanted: number, rowTokens: number): number {
  const limit = Math.floor(MAX_ARROW_VALUES / rowTokens);
  if (limit < 1) throw new ConfigError(`rowTokens ${rowTokens} exceeds the ${MAX_ARROW_VALUES} values one Arrow array may hold`);
  return Math.min(wanted, limit);
}
