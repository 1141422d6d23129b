/**
 * The `split` policy for documents longer than a limit (the row for long-class documents, the
 * original window for short-class ones): a document of `L` tokens becomes `ceil(L / limit)`
 * pieces of `limit` tokens, the last one holding the rest. Each piece is placed whole in one row
 * and its position ids restart at 0. No token is dropped.
 */

/** One piece of a document: tokens `[startToken, startToken + lengthTokens)` of it. */
export interface PieceSpan {
  startToken: number;
  lengthTokens: number;
  /** 0-based part number. */
  part: number;
  /** Number of parts the document was split into (1 when whole). */
  parts: number;
}

/**
 * Splits a document of `lengthTokens` tokens into pieces of at most `limitTokens`.
 * @throws RangeError when either length is not a positive integer.
 */
export function splitDocument(lengthTokens: number, limitTokens: number): PieceSpan[] {
  if (!Number.isInteger(lengthTokens) || lengthTokens < 1) throw new RangeError(`Expected lengthTokens to be a positive integer, got ${lengthTokens}`);
  if (!Number.isInteger(limitTokens) || limitTokens < 1) throw new RangeError(`Expected limitTokens to be a positive integer, got ${limitTokens}`);
  const parts = Math.ceil(lengthTokens / limitTokens);
  return Array.from({ length: parts }, (_, part) => ({
    startToken: part * limitTokens,
    lengthTokens: Math.min(limitTokens, lengthTokens - part * limitTokens),
    part,
    parts,
  }));
}
