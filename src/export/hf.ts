/**
 * Export to the directory layout of Hugging Face `datasets` `Dataset.save_to_disk`, so that
 * `datasets.load_from_disk(dir)` returns the rows of the build **in training order** (row `i` of
 * the dataset is the row with `row_id` i): a sampler that does not shuffle (nnScaler's
 * `DistributedSampler` with `shuffle: False`, or `longmix_loader.nnscaler.ScheduleSampler`)
 * follows the build's schedule (nnScaler's LongRoPE2 example loads its data this way:
 * microsoft/nnscaler examples/longrope2/data/dataset.py).
 *
 * Layout (the format pieces are in ./hfFormat.ts; checks/cross_check.py loads the export with
 * datasets 5.0.1, saves it again and compares):
 *
 * - `data-NNNNN-of-MMMMM.arrow`: MMMMM = the native shard count, the rows in `row_id` order cut
 *   into contiguous files as datasets' `save_to_disk` cuts them (`hfFileRows`), as an Arrow IPC **stream** (as datasets'
 *   `ArrowWriter`). Schema: the native columns, every field and list item nullable (as
 *   `Features.arrow_schema` makes it, so `load_from_disk` needs no cast), schema metadata
 *   `huggingface` = `json.dumps({"info": {"features": …}})`. Record batches of at most 1,000 rows
 *   (datasets' `DEFAULT_MAX_BATCH_SIZE`) and at most 64 MiB of token ids.
 * - `dataset_info.json`: `{citation, description, features, homepage, license}` (datasets drops
 *   unset fields), top-level keys sorted, indent 2, no trailing newline.
 * - `state.json`: `_data_files` [{filename}], `_fingerprint` (the first 16 hex digits of the
 *   SHA-256 of the build's manifest.json), `_format_columns` (default
 *   {@link DEFAULT_HF_FORMAT_COLUMNS}), `_format_kwargs` {}, `_format_type` null,
 *   `_output_all_columns` false, `_split` null; keys sorted, indent 2. Written last: the commit point.
 *
 * Native shards hold each rank's rows, so rows are first copied into a scratch file
 * (`rows.unordered.tmp` in the target directory, removed at the end) and read back in row order
 * (./rowOrder.ts). Memory: one native shard, then one record batch; disk: the scratch file, about
 * the size of the export, while it runs.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { RecordBatchStreamWriter, type RecordBatch, type Schema } from 'apache-arrow';
import { PipelineError } from '../core/errors.ts';
import { faultPoint } from '../core/fault.ts';
import { syncFile } from '../shard/writer.ts';
import type { RowRecord } from '../shard/schema.ts';
import {
  DEFAULT_HF_FORMAT_COLUMNS,
  HF_INFO_FILE,
  HF_STATE_FILE,
  hfBatchRows,
  hfDataFileName,
  hfDatasetInfo,
  hfFileRows,
  hfFingerprint,
  hfSchema,
  hfState,
  toHfBatch,
} from './hfFormat.ts';
import type { NativeBuild } from './index.ts';
import { openRowsInOrder } from './rowOrder.ts';

/** Name of the scratch file inside the target directory while the export runs. */
export const HF_SCRATCH_FILE = 'rows.unordered.tmp';

/** `description` of dataset_info.json: which build this is. */
export function hfDescription(native: NativeBuild): string {
  const { tool, recipe } = native.manifest;
  return `longmix build (${tool.name} ${tool.version}) of recipe "${recipe.name}" (recipe hash ${recipe.hash}); build sha256 ${native.buildSha256} (manifest.json without report and exports)`;
}

/** Groups `rows` into HF record batches. */
async function* hfBatches(rows: AsyncIterable<RowRecord>, schema: Schema, rowTokens: number): AsyncGenerator<RecordBatch> {
  const perBatch = hfBatchRows(rowTokens);
  let batch: RowRecord[] = [];
  for await (const row of rows) {
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
async function writeArrowStream(file: string, schema: Schema, batches: AsyncIterable<RecordBatch>): Promise<number> {
  const tmp = `${file}.tmp`;
  const writer = new RecordBatchStreamWriter();
  const done = pipeline(writer.toNodeStream(), createWriteStream(tmp));
  writer.reset(undefined, schema);
  let rows = 0;
  try {
    for await (const batch of batches) {
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

/** Options of {@link writeHfDataset}. */
export interface HfExportOptions {
  /**
   * `_format_columns` of state.json: the columns `load_from_disk(dir)[i]` returns; every column
   * stays in the files (`dataset.with_format(None)` shows them all). Default
   * {@link DEFAULT_HF_FORMAT_COLUMNS} (`input_ids`, `position_ids`, `num_pad`); null: all columns,
   * as `save_to_disk` writes by default.
   */
  formatColumns?: readonly string[] | null;
}

/** What {@link writeHfDataset} wrote. */
export interface HfExport {
  dir: string;
  /** Data file names, in order (as many as native shards; rows in `row_id` order across them). */
  files: string[];
  rows: number;
  fingerprint: string;
  formatColumns: readonly string[] | null;
}

/**
 * Writes the HF layout of `native` into `targetDir` (see the file header).
 * @throws PipelineError when `targetDir` exists and is not empty or a format column is not a column; InvariantError when a native shard does not match its manifest or the row ids are not exactly `0..rows-1`.
 */
export async function writeHfDataset(native: NativeBuild, targetDir: string, options: HfExportOptions = {}): Promise<HfExport> {
  const { rowTokens } = native.manifest.geometry;
  const schema = hfSchema(rowTokens);
  const formatColumns = options.formatColumns === undefined ? DEFAULT_HF_FORMAT_COLUMNS : options.formatColumns;
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
  const ordered = await openRowsInOrder(native, path.join(targetDir, HF_SCRATCH_FILE));
  const files: string[] = [];
  let rows = 0;
  try {
    for (let index = 0; index < count; index++) {
      const name = hfDataFileName(index, count);
      const [start, end] = hfFileRows(index, count, ordered.count);
      rows += await writeArrowStream(path.join(targetDir, name), schema, hfBatches(ordered.rows(start, end), schema, rowTokens));
      files.push(name);
      await faultPoint(`export:hf:${name}:written`);
    }
  } finally {
    await ordered.close();
  }
  const fingerprint = hfFingerprint(native.buildSha256);
  await writeTextAtomic(path.join(targetDir, HF_INFO_FILE), hfDatasetInfo(rowTokens, hfDescription(native)));
  await writeTextAtomic(path.join(targetDir, HF_STATE_FILE), hfState(count, fingerprint, formatColumns));
  return { dir: targetDir, files, rows, fingerprint, formatColumns };
}
