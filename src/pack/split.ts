/**
 * Splitting policy for documents longer than a row (`split`): a document of `L` tokens becomes
 * `ceil(L / rowTokens)` pieces of `rowTokens` tokens, the last one holding the rest. Each piece
 * is placed whole in one row and its position ids restart at 0. No token is dropped.
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
 * Splits a document of `lengthTokens` tokens into pieces of at most `rowTokens`.
 * @throws RangeError when either length is not a positive integer.
 */
export function splitDocument(lengthTokens: number, rowTokens: number): PieceSpan[] {
  if (!Number.isInteger(lengthTokens) || lengthTokens < 1) throw new RangeError(`Expected lengthTokens to be a positive integer, got ${lengthTokens}`);
  if (!Number.isInteger(rowTokens) || rowTokens < 1) throw new RangeError(`Expected rowTokens to be a positive integer, got ${rowTokens}`);
  const parts = Math.ceil(lengthTokens / rowTokens);
  return Array.from({ length: parts }, (_, part) => ({
    startToken: part * rowTokens,
    lengthTokens: Math.min(rowTokens, lengthTokens - part * rowTokens),
    part,
    parts,
  }));
}
