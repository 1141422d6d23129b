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
