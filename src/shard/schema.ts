/**
 * The Arrow schema of a shard row (one Arrow row = one training row). Documented field by field
 * in docs/format.md.
 *
 * - `input_ids`: FixedSizeList<Int32>[rowTokens], token ids; padding at the end.
 * - `position_ids`: FixedSizeList<Int32>[rowTokens]; `0..len-1` within each piece; every padding
 *   token has position 0, so padding never raises a row's max position (for a trainer that finds
 *   segments from position ids, each padding token is a length-1 segment of its own).
 * - `doc_lens`: List<Int32>, attention segment lengths in row order; `cu_seqlens = [0, cumsum(doc_lens)]`.
 *   With document attention (always for short rows) one segment per piece; with `full` attention
 *   of long rows one segment covering all pieces.
 * - `window`: Utf8, `"short"` or `"long"`.
 * - `num_pad`: Int32, padding tokens at the end; `sum(doc_lens) + num_pad = rowTokens`.
 * - `row_id`: Int32, 0-based position of the row in the whole build.
 * - `piece_lens`: List<Int32>, each piece's length in row order (equals `doc_lens` under document attention).
 * - `piece_source`, `piece_doc_id`: List<Utf8>, each piece's source and document id.
 * - `piece_repeat`: List<Int32>, 0 for a document's first use, k for its (k+1)-th (repetition).
 * - `piece_start`: List<Int32>, each piece's first token within its document (0 = starts with BOS).
 * - `piece_part`, `piece_parts`: List<Int32>, 0-based part number and number of parts.
 */
import { Field, FixedSizeList, Int32, List, Schema, Utf8 } from 'apache-arrow';

/** Schema-level metadata key holding the shard's JSON config. */
export const SHARD_METADATA_KEY = 'longmix';

const int32List = () => new List(new Field('item', new Int32(), false));

/**
 * Builds the shard schema for rows of `rowTokens` tokens.
 * @param metadata - JSON stored under {@link SHARD_METADATA_KEY} (geometry, tokenizer, recipe hash).
 */
export function shardSchema(rowTokens: number, metadata: Record<string, unknown>): Schema {
  return new Schema(
    [
      new Field('input_ids', new FixedSizeList(rowTokens, new Field('item', new Int32(), false)), false),
      new Field('position_ids', new FixedSizeList(rowTokens, new Field('item', new Int32(), false)), false),
      new Field('doc_lens', int32List(), false),
      new Field('window', new Utf8(), false),
      new Field('num_pad', new Int32(), false),
      new Field('row_id', new Int32(), false),
      new Field('piece_lens', int32List(), false),
      new Field('piece_source', new List(new Field('item', new Utf8(), false)), false),
      new Field('piece_doc_id', new List(new Field('item', new Utf8(), false)), false),
      new Field('piece_start', int32List(), false),
      new Field('piece_repeat', int32List(), false),
      new Field('piece_part', int32List(), false),
      new Field('piece_parts', int32List(), false),
    ],
    new Map([[SHARD_METADATA_KEY, JSON.stringify(metadata)]]),
  );
}

/** A row ready to be written; arrays hold one entry per piece. */
export interface RowRecord {
  rowId: number;
  window: 'short' | 'long';
  /** Token ids, length rowTokens. */
  inputIds: Int32Array;
  /** Position ids, length rowTokens. */
  positionIds: Int32Array;
  /** Attention segment lengths. */
  docLens: number[];
  numPad: number;
  pieceLens: number[];
  pieceSource: string[];
  pieceDocId: string[];
  pieceStart: number[];
  pieceRepeat: number[];
  piecePart: number[];
  pieceParts: number[];
}
