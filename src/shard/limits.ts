/**
 * Size limits of a shard file: Arrow arrays with 32-bit offsets and lengths, and the 2 GiB that
 * readers with 32-bit file offsets (and many tools) stop at.
 */
import { ConfigError } from '../core/errors.ts';

/** Largest number of values an Arrow array may hold here (int32 offsets and lengths). */
export const MAX_ARROW_VALUES = 2 ** 31 - 1;
/** Largest shard, bytes (2 GiB): readers with 32-bit offsets and many tools stop there. */
export const MAX_SHARD_BYTES = 2 ** 31;

/** Bytes one row takes in a shard (input_ids and position_ids, 4 bytes per token each), plus provenance allowance. */
export function rowBytes(rowTokens: number): number {
  return 8 * rowTokens + 1024;
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
