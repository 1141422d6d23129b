/**
 * The records that flow between stages.
 */

/** A document as read from a source, before tokenization. */
export interface Doc {
  /** Source name from the recipe. */
  source: string;
  /**
   * Stable document id, unique within the source: `<file>:<line>` (jsonl, 1-based line),
   * `<file>#<row>` (parquet, 0-based row) or `<file>` (text), where `<file>` is the input's
   * `idPath` (no machine path; see src/read/files.ts); dataset adapters give their own ids (see
   * src/read/datasets/).
   */
  id: string;
  /**
   * The record's location in the same form (`<idPath>:<line>`, `<idPath>#<row>`, `<idPath>`), unique
   * within the source; equal to `id` when the data gives no id. The plan appends it to a repeated id.
   */
  idWhere: string;
  /** Document text (UTF-8 decoded). */
  text: string;
}

/**
 * Reasons a record is skipped under `onBadRecord: skip`, one per cause; each is counted in the
 * manifest (docs/format.md §6.2):
 * - `malformed_json`: a JSONL line that `JSON.parse` rejects;
 * - `not_an_object`: valid JSON that is not an object (`null`, an array, a number, a string);
 * - `missing_text`: an object without the text field;
 * - `null_text`: the text field is `null` (JSON null, or a null Parquet cell);
 * - `text_not_string`: the text field is a number, boolean, array or object;
 * - `empty_text`: the text is the empty string;
 * - `invalid_utf8`: the line (JSONL), cell (Parquet) or file (text) is not valid UTF-8;
 * - `lone_surrogate`: the text holds an unpaired UTF-16 surrogate (a JSON escape such as `\ud800`);
 * - `line_too_long`: a JSONL line longer than `MAX_LINE_BYTES` (src/read/jsonl.ts);
 * - `text_too_long`: a text-format file whose text is longer than `MAX_TEXT_BYTES` (src/read/text.ts).
 */
export type BadRecordReason =
  | 'malformed_json'
  | 'not_an_object'
  | 'missing_text'
  | 'null_text'
  | 'text_not_string'
  | 'empty_text'
  | 'invalid_utf8'
  | 'lone_surrogate'
  | 'line_too_long'
  | 'text_too_long';

/** A record that could not be turned into a {@link Doc}. */
export interface BadRecord {
  source: string;
  reason: BadRecordReason;
  /** Where: `<file>:<line>` or `<file>#<row>`. */
  where: string;
  /** What was wrong, for the error message. */
  detail: string;
}

/** A document left out by a dataset filter before tokenization (RedPajama-v2 quality signals). */
export interface FilteredDoc {
  source: string;
  reason: 'quality_filter';
  where: string;
  /** Length of its text, UTF-16 code units (it is never tokenized). */
  chars: number;
}

/** Why input that holds no record was passed over (never an error; counted per source). */
export type SkippedReason = 'blank_line' | 'empty_file';

/**
 * Input that holds no record: a JSONL line that is empty or only whitespace (`blank_line`), or an
 * input file that yields no record at all (`empty_file`, e.g. a 0-byte JSONL file or a gzip of nothing; a 0-byte gzip, zstd or Parquet file is corrupt instead).
 * Counted per source in the manifest (`skipped`), so nothing passes unseen.
 */
export interface SkippedInput {
  source: string;
  reason: SkippedReason;
  /** Where: `<file>:<line>` or `<file>`. */
  where: string;
}

/**
 * What a reader yields: a document, a bad record (the build applies the recipe's policy), a
 * filtered document, or skipped input.
 */
export type ReadItem =
  { kind: 'doc'; doc: Doc } | { kind: 'bad'; bad: BadRecord } | { kind: 'filtered'; filtered: FilteredDoc } | { kind: 'skipped'; skipped: SkippedInput };

/** A document after tokenization. */
export interface TokenizedDoc {
  source: string;
  id: string;
  /** Token ids including BOS first and EOS last; length = `lengthTokens`. */
  ids: Int32Array;
}
