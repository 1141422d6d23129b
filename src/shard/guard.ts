/**
 * What the shard writer refuses to write: rows whose shape or token ids would make a shard that
 * `verify` (src/verify/row.ts) and every trainer reject. Checked for each row before it is
 * encoded, so a bad row never reaches a file.
 *
 * - `input_ids` and `position_ids` hold exactly `rowTokens` values (Arrow's fixed-size lists would
 *   otherwise pad a short array with zeros or cut a long one);
 * - every token id is in `[0, vocabSize)`;
 * - the piece lists (`piece_lens`, `piece_source`, `piece_doc_id`, `piece_start`, `piece_repeat`,
 *   `piece_part`, `piece_parts`) have one entry per piece, at least one piece, lengths >= 1,
 *   `0 <= piece_part < piece_parts`, starts and uses >= 0;
 * - `sum(piece_lens) + num_pad = rowTokens`, `num_pad >= 0`, and `doc_lens` (positive) sums to
 *   `sum(piece_lens)`; `window` is `short` or `long`.
 */
import { InvariantError } from '../core/errors.ts';
import type { RowRecord } from './schema.ts';

const isCount = (n: unknown, min: number) => Number.isSafeInteger(n) && (n as number) >= min;

/** The first problem of `row`, or null. */
function problemOf(row: RowRecord, rowTokens: number, vocabSize: number): string | null {
  if (row.inputIds.length !== rowTokens) return `input_ids has ${row.inputIds.length} values, expected rowTokens ${rowTokens}`;
  if (row.positionIds.length !== rowTokens) return `position_ids has ${row.positionIds.length} values, expected rowTokens ${rowTokens}`;
  if (row.window !== 'short' && row.window !== 'long') return `window is ${JSON.stringify(row.window)}, expected "short" or "long"`;
  const n = row.pieceLens.length;
  if (n === 0) return 'the row holds no piece';
  const lists = {
    piece_source: row.pieceSource,
    piece_doc_id: row.pieceDocId,
    piece_start: row.pieceStart,
    piece_repeat: row.pieceRepeat,
    piece_part: row.piecePart,
    piece_parts: row.pieceParts,
  };
  for (const [name, list] of Object.entries(lists)) if (list.length !== n) return `${name} has ${list.length} entries, piece_lens has ${n}`;
  for (let p = 0; p < n; p++) {
    if (!isCount(row.pieceLens[p], 1)) return `piece ${p} has length ${row.pieceLens[p]}`;
    if (!isCount(row.pieceStart[p], 0) || !isCount(row.pieceRepeat[p], 0)) return `piece ${p} starts at ${row.pieceStart[p]}, use ${row.pieceRepeat[p]}`;
    if (!isCount(row.piecePart[p], 0) || !(row.piecePart[p] < row.pieceParts[p])) return `piece ${p} is part ${row.piecePart[p]} of ${row.pieceParts[p]}`;
  }
  const used = row.pieceLens.reduce((s, x) => s + x, 0);
  if (!isCount(row.numPad, 0) || used + row.numPad !== rowTokens) return `sum(piece_lens) ${used} + num_pad ${row.numPad} != rowTokens ${rowTokens}`;
  if (!row.docLens.every((x) => isCount(x, 1)) || row.docLens.reduce((s, x) => s + x, 0) !== used)
    return `doc_lens [${row.docLens.join(', ')}] does not split the ${used} piece tokens into positive segments`;
  for (let i = 0; i < rowTokens; i++) {
    const id = row.inputIds[i];
    if (!(id >= 0 && id < vocabSize)) return `input_ids[${i}] = ${id} is outside the vocabulary [0, ${vocabSize})`;
  }
  return null;
}

/**
 * Checks a row before it is written (see the file header).
 * @param file - the shard being written, for the message.
 * @throws InvariantError naming the shard, the row id and the problem (a bug of the caller's).
 */
export function assertWritableRow(row: RowRecord, rowTokens: number, vocabSize: number, file: string): void {
  const problem = problemOf(row, rowTokens, vocabSize);
  if (problem) throw new InvariantError(`${file} row ${row.rowId}: refusing to write the row: ${problem}`, { file, row: row.rowId });
}
