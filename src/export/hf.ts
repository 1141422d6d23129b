/**
 * Export to the directory layout of Hugging Face `datasets` `Dataset.save_to_disk`, so that
 * `datasets.load_from_disk(dir)` returns the native rows (nnScaler's LongRoPE2 example loads its
 * data this way: microsoft/nnscaler examples/longrope2/data/dataset.py).
 *
 * Layout, matched byte for byte against what datasets 5.0.1 writes (checks/cross_check.py re-saves
 * the export with datasets and compares):
 *
 * - `data-NNNNN-of-MMMMM.arrow`: one per native shard (MMMMM = shard count, both zero-padded to 5),
 *   the same rows in the same order, as an Arrow IPC **stream** (as datasets' `ArrowWriter`). The
 *   schema is the native one with every field and list item nullable (as `Features.arrow_schema`
 *   makes it, so `load_from_disk` needs no cast), and schema metadata `huggingface` =
 *   `json.dumps({"info": {"features": …}})`. Record batches of at most 1,000 rows (datasets'
 *   `DEFAULT_MAX_BATCH_SIZE`) and at most 64 MiB of token ids.
 * - `dataset_info.json`: `{citation, description, features, homepage, license}` (datasets drops
 *   unset fields), top-level keys sorted, indent 2, no trailing newline.
 * - `state.json`: `_data_files` [{filename}], `_fingerprint` (the first 16 hex digits of the
 *   SHA-256 of the build's manifest.json), `_format_columns` null, `_format_kwargs` {},
 *   `_format_type` null, `_output_all_columns` false, `_split` null; keys sorted, indent 2.
 *   Written last: the commit point.
 *
 * Features (datasets >= 4 spells every sequence `List`; `Sequence` is its deprecated alias):
 * `input_ids`, `position_ids`: `List(Value("int32"), length=rowTokens)` (Arrow
 * `FixedSizeList<Int32>[rowTokens]`); `doc_lens`, `piece_lens`, `piece_start`, `piece_repeat`,
 * `piece_part`, `piece_parts`: `List(Value("int32"))`; `piece_source`, `piece_doc_id`:
 * `List(Value("string"))`; `window`: `Value("string")`; `num_pad`, `row_id`: `Value("int32")`.
 * datasets < 4 cannot read `List` features.
 *
 * Memory: one native shard, one HF file's queued output and one record batch.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  DataType,
  Field,
  FixedSizeList,
  List,
  makeData,
  RecordBatch,
  RecordBatchStreamReader,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  vectorFromArray,
  type Int32,
} from 'apache-arrow';
import { InvariantError, PipelineError } from '../core/errors.ts';
import { readableBatches, readShardBytes, shardRows } from '../shard/reader.ts';
import { syncFile } from '../shard/writer.ts';
import { shardSchema, type RowRecord } from '../shard/schema.ts';
import type { NativeBuild } from './index.ts';

/** File name of the state file of a `save_to_disk` directory (its data files, fingerprint and format). */
export const HF_STATE_FILE = 'state.json';
/** File name of the dataset info of a `save_to_disk` directory (features, sizes, description). */
export const HF_INFO_FILE = 'dataset_info.json';
/** Schema metadata key under which datasets stores the features. */
const HF_METADATA_KEY = 'huggingface';
/** datasets' `config.DEFAULT_MAX_BATCH_SIZE`, rows. */
const MAX_BATCH_ROWS = 1000;
/** Cap on a record batch's token ids (input_ids + position_ids), bytes. */
const MAX_BATCH_BYTES = 64 * 2 ** 20;

/** The RowRecord member behind each column, in schema order. */
const ROW_MEMBER: Readonly<Record<string, keyof RowRecord>> = {
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

/** The datasets feature (as `asdict` writes it) of an Arrow type of the native schema. */
function featureOf(type: DataType): Record<string, unknown> {
  if (DataType.isInt(type) && type.bitWidth === 32 && type.isSigned) return { dtype: 'int32', _type: 'Value' };
  if (DataType.isUtf8(type)) return { dtype: 'string', _type: 'Value' };
  if (DataType.isFixedSizeList(type)) return { feature: featureOf(type.children[0].type), length: type.listSize, _type: 'List' };
  if (DataType.isList(type)) return { feature: featureOf(type.children[0].type), _type: 'List' };
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
 * native column in schema order.
 */
export function hfFeatures(rowTokens: number): Record<string, unknown> {
  return Object.fromEntries(shardSchema(rowTokens, {}).fields.map((f) => [f.name, featureOf(f.type)]));
}

/** The Arrow schema of the HF data files: native columns, all nullable, features in metadata. */
export function hfSchema(rowTokens: number): Schema {
  const fields = shardSchema(rowTokens, {}).fields.map((f) => new Field(f.name, nullableType(f.type), true));
  return new Schema(fields, new Map([[HF_METADATA_KEY, pythonJson({ info: { features: hfFeatures(rowTokens) } })]]));
}

/** `_fingerprint`: the first 16 hex digits (datasets' fingerprint length) of manifest.json's SHA-256. */
export function hfFingerprint(manifestSha256: string): string {
  return manifestSha256.slice(0, 16);
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

/** `description` of dataset_info.json: which build this is. */
function describe(native: NativeBuild): string {
  const { tool, recipe } = native.manifest;
  return `longmix build (${tool.name} ${tool.version}) of recipe "${recipe.name}" (recipe hash ${recipe.hash}); manifest.json sha256 ${native.manifestSha256}`;
}

/** One record batch of `rows` under the HF schema. */
function toHfBatch(schema: Schema, rows: readonly RowRecord[], rowTokens: number): RecordBatch {
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

/** Groups `rows` into HF record batches. */
function* hfBatches(rows: Iterable<RowRecord>, schema: Schema, rowTokens: number): Generator<RecordBatch> {
  const perBatch = Math.max(1, Math.min(MAX_BATCH_ROWS, Math.floor(MAX_BATCH_BYTES / (8 * rowTokens))));
  let batch: RowRecord[] = [];
  for (const row of rows) {
    batch.push(row);
    if (batch.length === perBatch) {
      yield toHfBatch(schema, batch, rowTokens);
      batch = [];
    }
  }
  if (batch.length > 0) yield toHfBatch(schema, batch, rowTokens);
}

/**
 * Writes `batches` as an Arrow IPC stream to `<file>.tmp`, fsyncs and renames it to `file`.
 * @returns the number of rows written.
 */
async function writeArrowStream(file: string, schema: Schema, batches: Iterable<RecordBatch>): Promise<number> {
  const tmp = `${file}.tmp`;
  const writer = new RecordBatchStreamWriter();
  const done = pipeline(writer.toNodeStream(), createWriteStream(tmp));
  writer.reset(undefined, schema);
  let rows = 0;
  try {
    for (const batch of batches) {
      writer.write(batch);
      rows += batch.numRows;
    }
    writer.finish();
    await done;
  } catch (error) {
    // Not writer.abort(): it rejects a promise inside apache-arrow's Node stream adapter that no one handles.
    writer.close();
    await done.catch(() => undefined);
    await rm(tmp, { force: true });
    throw error;
  }
  await syncFile(tmp);
  await rename(tmp, file);
  return rows;
}

/** Writes `text` to `<file>.tmp`, flushed, then renames it to `file`. */
async function writeTextAtomic(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text, { flush: true });
  await rename(`${file}.tmp`, file);
}

/**
 * The columns nnScaler's LongRoPE2 example can take from `dataset[i]`: its collate function
 * (transformers' `DataCollatorForLanguageModeling`) makes a tensor of every column it is given and
 * fails on `doc_lens` (ragged) and `window` (string).
 */
export const NNSCALER_FORMAT_COLUMNS: readonly string[] = ['input_ids', 'position_ids'];

/** Options of {@link writeHfDataset}. */
export interface HfExportOptions {
  /**
   * `_format_columns` of state.json: the columns `load_from_disk(dir)[i]` returns; every column
   * stays in the files (`dataset.with_format(None)` shows them all). Default null: all columns,
   * as `save_to_disk` writes by default. {@link NNSCALER_FORMAT_COLUMNS} feeds nnScaler as is.
   */
  formatColumns?: readonly string[] | null;
}

/** What {@link writeHfDataset} wrote. */
export interface HfExport {
  dir: string;
  /** Data file names, in order (one per native shard). */
  files: string[];
  rows: number;
  fingerprint: string;
  formatColumns: readonly string[] | null;
}

/**
 * Writes the HF layout of `native` into `targetDir` (see the file header).
 * @throws PipelineError when `targetDir` exists and is not empty or a format column is not a column; InvariantError when a native shard does not match its manifest.
 */
export async function writeHfDataset(native: NativeBuild, targetDir: string, options: HfExportOptions = {}): Promise<HfExport> {
  const { rowTokens } = native.manifest.geometry;
  const schema = hfSchema(rowTokens);
  const formatColumns = options.formatColumns ?? null;
  const unknown = (formatColumns ?? []).filter((c) => !schema.fields.some((f) => f.name === c));
  if (unknown.length > 0)
    throw new PipelineError(
      `formatColumns: expected column names (${schema.fields.map((f) => f.name).join(', ')}), got ${unknown.map((c) => JSON.stringify(c)).join(', ')}`,
      { columns: unknown },
    );
  await mkdir(targetDir, { recursive: true });
  const existing = await readdir(targetDir);
  if (existing.length > 0)
    throw new PipelineError(
      `${targetDir}: expected a missing or empty directory for the HF export, found ${existing.length} entries (${existing.slice(0, 3).join(', ')}…); choose a new directory or remove it`,
      { dir: targetDir },
    );
  const count = native.manifest.shards.length;
  const files: string[] = [];
  let rows = 0;
  for await (const shard of native.shards()) {
    const name = hfDataFileName(shard.index, count);
    rows += await writeArrowStream(path.join(targetDir, name), schema, hfBatches(shard.rows, schema, rowTokens));
    files.push(name);
  }
  const fingerprint = hfFingerprint(native.manifestSha256);
  await writeTextAtomic(path.join(targetDir, HF_INFO_FILE), hfDatasetInfo(rowTokens, describe(native)));
  await writeTextAtomic(path.join(targetDir, HF_STATE_FILE), hfState(count, fingerprint, formatColumns));
  return { dir: targetDir, files, rows, fingerprint, formatColumns };
}

/** Same name, nullability and type, recursively (apache-arrow's type strings omit nested nullability). */
function sameField(a: Field, b: Field): boolean {
  if (a.name !== b.name || a.nullable !== b.nullable || a.type.typeId !== b.type.typeId || String(a.type) !== String(b.type)) return false;
  const ac = (a.type.children ?? []) as Field[];
  const bc = (b.type.children ?? []) as Field[];
  return ac.length === bc.length && ac.every((f, i) => sameField(f, bc[i]));
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

/** The `_format_columns` a state.json records, when it is null or a list of column names (else null, so the text comparison fails). */
function recordedFormatColumns(stateText: string, schema: Schema): readonly string[] | null {
  let columns: unknown;
  try {
    columns = (JSON.parse(stateText) as { _format_columns?: unknown })._format_columns;
  } catch {
    return null;
  }
  const names = new Set(schema.fields.map((f) => f.name));
  return Array.isArray(columns) && columns.every((c) => typeof c === 'string' && names.has(c)) ? (columns as string[]) : null;
}

/** Reads a file for verification; a missing file is a named InvariantError. */
async function readExportFile(file: string, shown: string): Promise<Uint8Array> {
  return readShardBytes(file).catch((error: unknown) => {
    throw new InvariantError(`${shown}: cannot read: ${(error as Error).message}`, { file }, { cause: error });
  });
}

/** Checks an HF data file's schema (fields and metadata) and that no column holds a null. */
function checkHfFileShape(bytes: Uint8Array, shown: string, schema: Schema): void {
  let reader;
  try {
    reader = RecordBatchStreamReader.from(bytes);
    reader.open();
  } catch (error) {
    throw new InvariantError(`${shown}: not an Arrow IPC stream (truncated or damaged): ${(error as Error).message}`, { file: shown }, { cause: error });
  }
  const actual = reader.schema;
  const fieldsOk = actual.fields.length === schema.fields.length && actual.fields.every((f, i) => sameField(f, schema.fields[i]));
  if (!fieldsOk)
    throw new InvariantError(
      `${shown}: schema [${actual.fields.map((f) => `${f.name}: ${String(f.type)}`).join(', ')}] differs from the HF schema of the export`,
      { file: shown },
    );
  if (actual.metadata.get(HF_METADATA_KEY) !== schema.metadata.get(HF_METADATA_KEY))
    throw new InvariantError(`${shown}: schema metadata "${HF_METADATA_KEY}" differs from the features of dataset_info.json`, { file: shown });
  let start = 0;
  for (const batch of readableBatches(reader, shown)) {
    for (const field of schema.fields) {
      const nulls = batch.getChild(field.name)?.nullCount ?? 0;
      if (nulls > 0)
        throw new InvariantError(`${shown} rows ${start}..${start + batch.numRows - 1}: column ${field.name} holds ${nulls} nulls`, { file: shown });
    }
    start += batch.numRows;
  }
}

/**
 * Compares the HF directory `hfDir` with `native`: state.json and dataset_info.json as
 * {@link writeHfDataset} writes them, each data file's schema, then every column of every row.
 * @throws InvariantError naming the file and row (HF row index within the file, row_id and native shard) of the first difference.
 */
export async function verifyHfDataset(native: NativeBuild, hfDir: string): Promise<void> {
  const { rowTokens } = native.manifest.geometry;
  const count = native.manifest.shards.length;
  const shown = (name: string) => path.join(hfDir, name);
  const schema = hfSchema(rowTokens);
  const readText = async (name: string) => Buffer.from(await readExportFile(shown(name), shown(name))).toString('utf8');
  const stateText = await readText(HF_STATE_FILE);
  const expectedText: [string, string, string][] = [
    [HF_STATE_FILE, stateText, hfState(count, hfFingerprint(native.manifestSha256), recordedFormatColumns(stateText, schema))],
    [HF_INFO_FILE, await readText(HF_INFO_FILE), hfDatasetInfo(rowTokens, describe(native))],
  ];
  for (const [name, actual, expected] of expectedText) {
    if (actual !== expected)
      throw new InvariantError(`${shown(name)}: differs from what the export of this build writes (stale export or edited file)`, { file: shown(name) });
  }
  for await (const shard of native.shards()) {
    const name = shown(hfDataFileName(shard.index, count));
    const bytes = await readExportFile(name, name);
    checkHfFileShape(bytes, name, schema);
    const exported = shardRows(bytes, name);
    let i = 0;
    for (const row of shard.rows) {
      const next = exported.next();
      if (next.done) throw new InvariantError(`${name}: ends after ${i} rows; native ${shard.info.file} has ${shard.info.rows}`, { file: name, row: i });
      const difference = rowDifference(next.value, row);
      if (difference)
        throw new InvariantError(`${name} row ${i} (row_id ${row.rowId}, native ${shard.info.file} row ${i}): ${difference}`, {
          file: name,
          row: i,
          rowId: row.rowId,
        });
      i++;
    }
    if (!exported.next().done) throw new InvariantError(`${name}: holds more than the ${i} rows of native ${shard.info.file}`, { file: name, row: i });
  }
}
