/**
 * Typed errors. Every error a user can cause names where it happened (file, line or row,
 * recipe key path, shard and row) and, where one exists, the fix.
 */

/** Base class: a message plus structured context (file, line, source, …) for logs and tests. */
export class PipelineError extends Error {
  /**
   * @param message - human-readable, ends with the remedy where one exists.
   * @param context - structured location data, e.g. `{ file, line }`.
   * @param options - `cause` of a wrapped error.
   */
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A bad recipe: the message names the key path, e.g. `sources.0.budgetTokens`. */
export class ConfigError extends PipelineError {}

/** A bad input record or file: the message names the file and the 1-based line or 0-based row. */
export class InputError extends PipelineError {}

/**
 * An input file that breaks part-way (truncated or corrupt compressed data, a Parquet file whose
 * footer or pages cannot be decoded): everything before {@link byteOffset} was read, nothing after.
 * Typed so that a build can apply a per-file policy (recipe `onBadFile`): stop, or skip the file,
 * count it and list it with the records read before the break.
 */
export class CorruptInputError extends InputError {
  /**
   * @param message - `<file>: …` naming the byte offset, the records read and what broke.
   * @param file - the input's `relPath` (docs/format.md §6.1).
   * @param byteOffset - offset in the file as stored (compressed bytes), bytes, 0-based: the data
   *   before it decoded; the damage lies at or after it (for gzip, whose CRC is checked at the end
   *   of each member, anywhere in the member that ends there).
   * @param recordsRead - records (JSONL lines that were not blank, Parquet rows) the reader yielded
   *   before the break.
   * @param options - `cause` of a wrapped error.
   */
  constructor(
    message: string,
    readonly file: string,
    readonly byteOffset: number,
    readonly recordsRead: number,
    options?: { cause?: unknown },
  ) {
    super(message, { file, byteOffset, recordsRead }, options);
  }
}

/** An unsatisfiable token budget: names the source, the budget, what was available and the fix. */
export class BudgetError extends PipelineError {}

/** A broken invariant in written output (or a bug of ours): names the invariant, shard and row. */
export class InvariantError extends PipelineError {}

/**
 * Asserts an internal invariant; never used for caller input.
 * @throws InvariantError with `message` when `condition` is false.
 */
export function invariant(condition: unknown, message: string, context: Record<string, unknown> = {}): asserts condition {
  if (!condition) throw new InvariantError(message, context);
}
