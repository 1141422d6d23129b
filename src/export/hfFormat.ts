/**
 * The Hugging Face `datasets` `save_to_disk` layout of an export, as pure functions: file names,
 * features, the Arrow schema, `state.json`, `dataset_info.json`, record batches.
 *
 * Features are written in the encoding of datasets 2.x/3.x, `Sequence` (as datasets' `asdict`
 * writes a `Sequence` dataclass: fields equal to their default omitted, `_type` last), which
 * datasets 4.x and 5.x still read as their `List` (`generate_from_dict`, "backward
 * compatibility"); datasets < 4 cannot read 4.0's `List` spelling. So nnScaler's LongRoPE2 setup
 * (examples/llama/requirements.txt pins datasets 3.6.0) and current datasets read the same files.
 * `input_ids`, `position_ids`: `Sequence(Value("int32"), length=rowTokens)` (Arrow
 * `FixedSizeList<Int32>[rowTokens]`); `doc_lens`, `piece_lens`, `piece_start`, `piece_repeat`,
 * `piece_part`, `piece_parts`: `Sequence(Value("int32"))`; `piece_source`, `piece_doc_id`:
 * `Sequence(Value("string"))`; `window`: `Value("string")`; `num_pad`, `row_id`: `Value("int32")`.
 */
import { DataType, Field, FixedSizeList, List, makeData, RecordBatch, Schema, Struct, vectorFromArray, type Int32 } from 'apache-arrow';
import { InvariantError } from '../core/errors.ts';
import { shardSchema, type RowRecord } from '../shard/schema.ts';

/** File name of the state file of a `save_to_disk` directory (its data files, fingerprint and format). */
export const HF_STATE_FILE = 'state.json';
/** File name of the dataset info of a `save_to_disk` directory (features, sizes, description). */
export const HF_INFO_FILE = 'dataset_info.json';
/** Schema metadata key under which datasets stores the features. */
export const HF_METADATA_KEY = 'huggingface';
/** datasets' `config.DEFAULT_MAX_BATCH_SIZE`, rows. */
const MAX_BATCH_ROWS = 1000;
/** Cap on a record batch's token ids (input_ids + position_ids), bytes. */
const MAX_BATCH_BYTES = 64 * 2 ** 20;

/**
 * The default `_format_columns` of an export: what `load_from_disk(dir)[i]` returns. Every column
 * is a number or a fixed-length list, so transformers' `DataCollatorForLanguageModeling` (what
 * nnScaler's LongRoPE2 collate calls) stacks them; `num_pad` lets any collator mask the padding
 * by count, without knowing the pad id (for phi3 it equals EOS). Segment starts are the zeros of
 * `position_ids` before the padding. The other columns stay in the files (`with_format(None)`).
 */
export const DEFAULT_HF_FORMAT_COLUMNS: readonly string[] = ['input_ids', 'position_ids', 'num_pad'];

/**
 * The format columns `build-mix --format hf` records: {@link DEFAULT_HF_FORMAT_COLUMNS}. nnScaler's
 * stock collate takes them as they are (it passes `num_pad` on to the model, whose forward
 * ignores unknown keyword arguments); `longmix_loader.nnscaler` masks the padding with them.
 */
export const NNSCALER_FORMAT_COLUMNS: readonly string[] = DEFAULT_HF_FORMAT_COLUMNS;

/** The RowRecord member behind each column, in schema order. */
export const ROW_MEMBER: Readonly<Record<string, keyof RowRecord>> = {
  input_ids: 'inputIds',
  position_ids: 'positionIds',
  doc_lens: 'docLens',
  window: 'window',
  num_pad: 'numPad',
  row_id: 'rowId',
  piece_lens: 'pieceLens',
  piece_source: 'pieceSource',
  piece_doc_id: 'pieceDocId',
  piece_start: 'pieceStart',
  piece_repeat: 'pieceRepeat',
  piece_part: 'piecePart',
  piece_parts: 'pieceParts',
};

/** `data-NNNNN-of-MMMMM.arrow`, as datasets names shard `index` of `count`. */
export function hfDataFileName(index: number, count: number): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `data-${pad(index)}-of-${pad(count)}.arrow`;
}

/**
 * The rows of data file `index` of `count`: `row_id`s `[start, end)`, in training order, cut as
 * datasets' `Dataset.shard(num_shards, index, contiguous=True)` cuts (what `save_to_disk` uses):
 * `rows // count` each, the first `rows % count` files one more.
 */
export function hfFileRows(index: number, count: number, rows: number): [number, number] {
  const each = Math.floor(rows / count);
  const extra = rows % count;
  const start = each * index + Math.min(index, extra);
  return [start, start + each + (index < extra ? 1 : 0)];
}

/**
 * Serializes like Python's `json.dumps(value, indent=indent)` with default settings: `", "` and
 * `": "` separators (`","` + newline when indented), non-ASCII escaped as `\uXXXX`, keys in
 * insertion order, no trailing newline. For JSON values of strings, integers, booleans, null,
 * arrays and plain objects.
 */
export function pythonJson(value: unknown, indent?: number, level = 0): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  const entries = Array.isArray(value)
    ? value.map((v) => pythonJson(v, indent, level + 1))
    : Object.entries(value).map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v, indent, level + 1)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return open + close;
  if (indent === undefined) return open + entries.join(', ') + close;
  const inner = '\n' + ' '.repeat(indent * (level + 1));
  return open + inner + entries.join(',' + inner) + '\n' + ' '.repeat(indent * level) + close;
}

/** The datasets feature (as datasets 3.x's `asdict` writes it) of an Arrow type of the native schema. */
function featureOf(type: DataType): Record<string, unknown> {
  if (DataType.isInt(type) && type.bitWidth === 32 && type.isSigned) return { dtype: 'int32', _type: 'Value' };
  if (DataType.isUtf8(type)) return { dtype: 'string', _type: 'Value' };
  if (DataType.isFixedSizeList(type)) return { feature: featureOf(type.children[0].type), length: type.listSize, _type: 'Sequence' };
  if (DataType.isList(type)) return { feature: featureOf(type.children[0].type), _type: 'Sequence' };
  throw new InvariantError(`hf export: no datasets feature for Arrow type ${String(type)}`, { type: String(type) });
}

/** The same type with every nested field nullable (what `Features.arrow_schema` produces). */
function nullableType(type: DataType): DataType {
  const child = (f: Field) => new Field(f.name, nullableType(f.type), true);
  if (DataType.isFixedSizeList(type)) return new FixedSizeList(type.listSize, child(type.children[0]));
  if (DataType.isList(type)) return new List(child(type.children[0]));
  return type;
}

/**
 * The `features` object of `dataset_info.json` for rows of `rowTokens` tokens, one entry per
 * native column in schema order (see the file header for the encoding).
 */
export function hfFeatures(rowTokens: number): Record<string, unknown> {
  return Object.fromEntries(shardSchema(rowTokens, {}).fields.map((f) => [f.name, featureOf(f.type)]));
}

/** The Arrow schema of the HF data files: native columns, all nullable, features in metadata. */
export function hfSchema(rowTokens: number): Schema {
  const fields = shardSchema(rowTokens, {}).fields.map((f) => new Field(f.name, nullableType(f.type), true));
  return new Schema(fields, new Map([[HF_METADATA_KEY, pythonJson({ info: { features: hfFeatures(rowTokens) } })]]));
}

/** `_fingerprint`: the first 16 hex digits (datasets' fingerprint length) of the build digest (src/manifest/identity.ts). */
export function hfFingerprint(buildSha256: string): string {
  return buildSha256.slice(0, 16);
}

/**
 * The text of `state.json` for `fileCount` data files.
 * @param formatColumns - `_format_columns`: the columns `dataset[i]` returns after `load_from_disk` (null: all).
 */
export function hfState(fileCount: number, fingerprint: string, formatColumns: readonly string[] | null = null): string {
  const dataFiles = Array.from({ length: fileCount }, (_, i) => ({ filename: hfDataFileName(i, fileCount) }));
  return pythonJson(
    {
      _data_files: dataFiles,
      _fingerprint: fingerprint,
      _format_columns: formatColumns,
      _format_kwargs: {},
      _format_type: null,
      _output_all_columns: false,
      _split: null,
    },
    2,
  );
}

/** The text of `dataset_info.json`. */
export function hfDatasetInfo(rowTokens: number, description: string): string {
  return pythonJson({ citation: '', description, features: hfFeatures(rowTokens), homepage: '', license: '' }, 2);
}

/** One record batch of `rows` under the HF schema. */
export function toHfBatch(schema: Schema, rows: readonly RowRecord[], rowTokens: number): RecordBatch {
  const n = rows.length;
  const children = schema.fields.map((field) => {
    const member = ROW_MEMBER[field.name];
    if (member === undefined) throw new InvariantError(`hf export: no row member for column "${field.name}"`, { column: field.name });
    const type = field.type;
    if (DataType.isFixedSizeList(type)) {
      const values = new Int32Array(n * rowTokens);
      rows.forEach((r, i) => values.set(r[member] as Int32Array, i * rowTokens));
      const child = makeData({ type: type.children[0].type as Int32, length: values.length, nullCount: 0, data: values });
      return makeData({ type, length: n, nullCount: 0, child });
    }
    if (DataType.isInt(type)) return makeData({ type, length: n, nullCount: 0, data: Int32Array.from(rows, (r) => r[member] as number) });
    return vectorFromArray(
      rows.map((r) => r[member]),
      type,
    ).data[0];
  });
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
}

/** Rows per HF record batch: at most 1,000 (datasets' default) and 64 MiB of token ids. */
export function hfBatchRows(rowTokens: number): number {
  return Math.max(1, Math.min(MAX_BATCH_ROWS, Math.floor(MAX_BATCH_BYTES / (8 * rowTokens))));
}

/** Where `actual` first differs from `expected`, in words, or undefined when they are equal. */
export function rowDifference(actual: RowRecord, expected: RowRecord): string | undefined {
  for (const [column, member] of Object.entries(ROW_MEMBER)) {
    const a = actual[member];
    const e = expected[member];
    if (typeof e !== 'object') {
      if (a !== e) return `${column} is ${JSON.stringify(a)}, expected ${JSON.stringify(e)}`;
      continue;
    }
    const av = a as ArrayLike<unknown>;
    const ev = e as ArrayLike<unknown>;
    if (av.length !== ev.length) return `${column} has ${av.length} entries, expected ${ev.length}`;
    for (let i = 0; i < ev.length; i++) if (av[i] !== ev[i]) return `${column}[${i}] is ${JSON.stringify(av[i])}, expected ${JSON.stringify(ev[i])}`;
  }
  return undefined;
}

/** Same name, nullability and type, recursively (apache-arrow's type strings omit nested nullability). */
export function sameField(a: Field, b: Field): boolean {
  if (a.name !== b.name || a.nullable !== b.nullable || a.type.typeId !== b.type.typeId || String(a.type) !== String(b.type)) return false;
  const ac = (a.type.children ?? []) as Field[];
  const bc = (b.type.children ?? []) as Field[];
  return ac.length === bc.length && ac.every((f, i) => sameField(f, bc[i]));
}
