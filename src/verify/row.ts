/**
 * The checks `verify` runs on every row of a shard (src/verify/verify.ts runs them in order and
 * stops at the first violation):
 *
 * - exactly `rowTokens` input ids and position ids; `sum(piece_lens) + num_pad = rowTokens`;
 *   every piece list as long as `piece_lens`; `0 <= piece_part < piece_parts`;
 * - `doc_lens` equals `piece_lens` (document attention) or is one entry of their sum (`full`
 *   attention, long rows);
 * - position ids are `0..len-1` within each piece (or `0..used-1` over a `full` row) and 0 at
 *   every padding token;
 * - short rows: max position < original window; long rows: max position >= original window and
 *   a piece longer than the window;
 * - every token id is in `[0, vocabSize)`;
 * - BOS and EOS only where a document starts and ends: a piece starting at token 0 starts with
 *   BOS, a piece that ends its document ends with EOS, and neither id appears anywhere else in a
 *   piece. A piece ends its document when it is the last part of a split document, or a whole
 *   document (`piece_parts` 1). A `piece_parts` 1 piece exactly as long as the truncation limit
 *   of its class (`rowTokens` for long sources, `originalWindowTokens` for short ones) under a
 *   `truncate` policy may instead be a truncated document, which has no EOS: such pieces are
 *   counted, and the count must equal the manifest's `rows.truncatedPieces`.
 */
import { InvariantError } from '../core/errors.ts';
import type { Manifest } from '../manifest/types.ts';
import type { RowRecord } from '../shard/schema.ts';

/** What `verify` accumulates over the rows of a build. */
export interface Tally {
  /** `source \0 document \0 start \0 use` of every piece seen. */
  seen: Set<string>;
  /** Tokens per source. */
  placed: Map<string, number>;
  /** Pieces starting at token 0 per source (uses of documents). */
  docs: Map<string, number>;
  /** Pieces that are truncated documents (no EOS at their end). */
  truncatedPieces: number;
  /** `source \0 document` -> the rows (row_id) and uses of its pieces, for documents seen more than once. */
  uses: Map<string, { rowId: number; repeat: number }[]>;
}

/** A fresh tally. */
export function newTally(): Tally {
  return { seen: new Set(), placed: new Map(), docs: new Map(), truncatedPieces: 0, uses: new Map() };
}

/**
 * Throws the InvariantError of a violation at `shard` (and `row`).
 * @throws InvariantError always.
 */
export function fail(message: string, shard: string, row?: number): never {
  throw new InvariantError(`${shard}${row === undefined ? '' : ` row ${row}`}: ${message}`, { shard, row });
}

/** Checks a row's shape: lengths, piece lists, doc_lens. Returns the tokens its pieces use. */
function checkShape(row: RowRecord, manifest: Manifest, shard: string): number {
  const { rowTokens, longRowAttention } = manifest.geometry;
  const at = row.rowId;
  if (row.window !== 'short' && row.window !== 'long') fail(`window is "${row.window}"`, shard, at);
  if (row.inputIds.length !== rowTokens) fail(`input_ids has ${row.inputIds.length} tokens, expected ${rowTokens}`, shard, at);
  if (row.positionIds.length !== rowTokens) fail(`position_ids has ${row.positionIds.length} entries, expected ${rowTokens}`, shard, at);
  const n = row.pieceLens.length;
  if (n === 0) fail('row holds no piece', shard, at);
  for (const [name, list] of [
    ['piece_source', row.pieceSource],
    ['piece_doc_id', row.pieceDocId],
    ['piece_start', row.pieceStart],
    ['piece_repeat', row.pieceRepeat],
    ['piece_part', row.piecePart],
    ['piece_parts', row.pieceParts],
  ] as const) {
    if (list.length !== n) fail(`${name} has ${list.length} entries, piece_lens has ${n}`, shard, at);
  }
  for (let p = 0; p < n; p++) {
    if (!(row.pieceLens[p] > 0)) fail(`piece ${p} has length ${row.pieceLens[p]}`, shard, at);
    if (!(row.piecePart[p] >= 0 && row.piecePart[p] < row.pieceParts[p])) fail(`piece ${p} is part ${row.piecePart[p]} of ${row.pieceParts[p]}`, shard, at);
    if (!(row.pieceStart[p] >= 0)) fail(`piece ${p} starts at token ${row.pieceStart[p]} of its document`, shard, at);
  }
  const used = row.pieceLens.reduce((s, len) => s + len, 0);
  if (used + row.numPad !== rowTokens) fail(`sum(piece_lens) ${used} + num_pad ${row.numPad} != ${rowTokens}`, shard, at);
  const full = row.window === 'long' && longRowAttention === 'full';
  const expectedDocLens = full ? [used] : row.pieceLens;
  if (row.docLens.length !== expectedDocLens.length || row.docLens.some((len, i) => len !== expectedDocLens[i])) {
    fail(`doc_lens [${row.docLens.join(', ')}] should be [${expectedDocLens.join(', ')}] (${full ? 'full' : 'document'} attention)`, shard, at);
  }
  return used;
}

/**
 * Whether piece `p` of `row` ends its document: true, false, or `maybe` (a whole piece as long as
 * the truncation limit under a `truncate` policy: whole, or truncated).
 */
function endsDocument(row: RowRecord, p: number, manifest: Manifest): boolean | 'maybe' {
  if (row.pieceParts[p] > 1) return row.piecePart[p] === row.pieceParts[p] - 1;
  const { rowTokens, originalWindowTokens, longDocPolicy, shortDocPolicy } = manifest.geometry;
  const long = manifest.sources[row.pieceSource[p]]?.window === 'long';
  const policy = long ? longDocPolicy : shortDocPolicy;
  return policy === 'truncate' && row.pieceLens[p] === (long ? rowTokens : originalWindowTokens) ? 'maybe' : true;
}

/** Checks BOS/EOS of piece `p` (tokens `[offset, offset + len)` of the row). */
function checkSpecialIds(row: RowRecord, p: number, offset: number, manifest: Manifest, shard: string, tally: Tally): void {
  const { bosId, eosId } = manifest.tokenizer;
  const at = row.rowId;
  const len = row.pieceLens[p];
  const ids = row.inputIds;
  const what = `piece ${p} (${row.pieceSource[p]} ${row.pieceDocId[p]}, tokens ${row.pieceStart[p]}..${row.pieceStart[p] + len - 1})`;
  if (row.pieceStart[p] === 0 && ids[offset] !== bosId) fail(`piece ${p} starts its document but its first id is ${ids[offset]}, not BOS ${bosId}`, shard, at);
  let ends = endsDocument(row, p, manifest);
  const last = ids[offset + len - 1];
  if (ends === 'maybe') {
    ends = last === eosId;
    if (!ends) tally.truncatedPieces++;
  }
  if (ends && last !== eosId) fail(`${what} ends its document but its last id is ${last}, not EOS ${eosId}`, shard, at);
  for (let i = 0; i < len; i++) {
    const id = ids[offset + i];
    if (id === bosId && !(i === 0 && row.pieceStart[p] === 0)) fail(`${what} holds BOS ${bosId} at input_ids[${offset + i}], inside the document`, shard, at);
    if (id === eosId && !(i === len - 1 && ends)) fail(`${what} holds EOS ${eosId} at input_ids[${offset + i}], inside the document`, shard, at);
  }
}

/** Records piece `p` in the tally; a piece seen twice is a violation. */
function tallyPiece(row: RowRecord, p: number, shard: string, tally: Tally): void {
  const source = row.pieceSource[p];
  const doc = `${source}\u0000${row.pieceDocId[p]}`;
  const key = `${doc}\u0000${row.pieceStart[p]}\u0000${row.pieceRepeat[p]}`;
  if (tally.seen.has(key))
    fail(
      `piece ${p} (${source} ${row.pieceDocId[p]} from token ${row.pieceStart[p]}, use ${row.pieceRepeat[p]}) appears twice in the output`,
      shard,
      row.rowId,
    );
  tally.seen.add(key);
  tally.placed.set(source, (tally.placed.get(source) ?? 0) + row.pieceLens[p]);
  if (row.pieceStart[p] === 0) tally.docs.set(source, (tally.docs.get(source) ?? 0) + 1);
  const uses = tally.uses.get(doc);
  if (uses) uses.push({ rowId: row.rowId, repeat: row.pieceRepeat[p] });
  else tally.uses.set(doc, [{ rowId: row.rowId, repeat: row.pieceRepeat[p] }]);
}

/**
 * Checks one row (see the file header) and adds it to `tally`.
 * @throws InvariantError naming `shard`, the row id and the first violation.
 */
export function checkRow(row: RowRecord, manifest: Manifest, shard: string, tally: Tally): void {
  const { rowTokens, originalWindowTokens, longRowAttention } = manifest.geometry;
  const { vocabSize } = manifest.tokenizer;
  const at = row.rowId;
  const used = checkShape(row, manifest, shard);
  const full = row.window === 'long' && longRowAttention === 'full';
  for (let i = 0; i < rowTokens; i++) {
    const id = row.inputIds[i];
    if (!(id >= 0 && id < vocabSize)) fail(`input_ids[${i}] = ${id} is outside [0, ${vocabSize})`, shard, at);
  }
  let offset = 0;
  let longestPiece = 0;
  for (let p = 0; p < row.pieceLens.length; p++) {
    const len = row.pieceLens[p];
    for (let i = 0; i < len; i++) {
      const expected = full ? offset + i : i;
      if (row.positionIds[offset + i] !== expected)
        fail(`position_ids[${offset + i}] is ${row.positionIds[offset + i]}, expected ${expected} (piece ${p})`, shard, at);
    }
    longestPiece = Math.max(longestPiece, len);
    checkSpecialIds(row, p, offset, manifest, shard, tally);
    tallyPiece(row, p, shard, tally);
    offset += len;
  }
  for (let i = offset; i < rowTokens; i++) if (row.positionIds[i] !== 0) fail(`padding position_ids[${i}] is ${row.positionIds[i]}, expected 0`, shard, at);
  const maxPosition = full ? used - 1 : longestPiece - 1;
  if (row.window === 'short' && maxPosition >= originalWindowTokens)
    fail(`short row has max position ${maxPosition} >= original window ${originalWindowTokens}`, shard, at);
  if (row.window === 'long' && maxPosition < originalWindowTokens)
    fail(`long row has max position ${maxPosition} < original window ${originalWindowTokens}`, shard, at);
  if (row.window === 'long' && longestPiece <= originalWindowTokens)
    fail(`long row holds no piece longer than the original window ${originalWindowTokens}`, shard, at);
}
