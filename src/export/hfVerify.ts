/**
 * Re-reads an HF export (./hf.ts) and compares it with the native build: `state.json` and
 * `dataset_info.json` as the export writes them, each data file's schema, then every column of
 * every row, with the rows in `row_id` order across the data files.
 *
 * Rows are compared by the SHA-256 of their canonical bytes (./rowOrder.ts), collected from the
 * native shards first (32 bytes per row); on a mismatch the native row is read again to name the
 * first differing column and index. Memory: one native shard or one HF data file at a time.
 */
import path from 'node:path';
import { RecordBatchStreamReader, type Schema } from 'apache-arrow';
import { InvariantError } from '../core/errors.ts';
import { readableBatches, readShardBytes, shardRows } from '../shard/reader.ts';
import type { RowRecord } from '../shard/schema.ts';
import { hfDescription } from './hf.ts';
import {
  HF_INFO_FILE,
  HF_METADATA_KEY,
  HF_STATE_FILE,
  hfDataFileName,
  hfDatasetInfo,
  hfFileRows,
  hfFingerprint,
  hfSchema,
  hfState,
  rowDifference,
  sameField,
} from './hfFormat.ts';
import type { NativeBuild } from './index.ts';
import { rowDigest } from './rowOrder.ts';

const DIGEST_BYTES = 32;

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
async function readExportFile(file: string): Promise<Uint8Array> {
  return readShardBytes(file).catch((error: unknown) => {
    throw new InvariantError(`${file}: cannot read: ${(error as Error).message}`, { file }, { cause: error });
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

/** The native row with `rowId` and where it is (its shard file and row index), read again. */
async function nativeRow(native: NativeBuild, rowId: number): Promise<{ row: RowRecord; where: string }> {
  const [shardIndex, k] = native.manifest.schedule.positions[rowId];
  for await (const shard of native.shards()) {
    if (shard.index !== shardIndex) continue;
    let i = 0;
    for (const row of shard.rows) if (i++ === k) return { row, where: `native ${shard.info.file} row ${k}` };
  }
  throw new InvariantError(`row_id ${rowId}: manifest places it at shard ${shardIndex} row ${k}, which does not exist`, { row: rowId });
}

/**
 * Compares the HF directory `hfDir` with `native` (see the file header).
 * @throws InvariantError naming the file and row (row index within the file, row_id and native shard row) of the first difference.
 */
export async function verifyHfDataset(native: NativeBuild, hfDir: string): Promise<void> {
  const { rowTokens } = native.manifest.geometry;
  const count = native.manifest.shards.length;
  const total = native.manifest.rows.total;
  const shown = (name: string) => path.join(hfDir, name);
  const schema = hfSchema(rowTokens);
  const readText = async (name: string) => Buffer.from(await readExportFile(shown(name))).toString('utf8');
  const stateText = await readText(HF_STATE_FILE);
  const expectedText: [string, string, string][] = [
    [HF_STATE_FILE, stateText, hfState(count, hfFingerprint(native.buildSha256), recordedFormatColumns(stateText, schema))],
    [HF_INFO_FILE, await readText(HF_INFO_FILE), hfDatasetInfo(rowTokens, hfDescription(native))],
  ];
  for (const [name, actual, expected] of expectedText) {
    if (actual !== expected)
      throw new InvariantError(`${shown(name)}: differs from what the export of this build writes (stale export or edited file)`, { file: shown(name) });
  }
  const digests = new Uint8Array(total * DIGEST_BYTES);
  for await (const shard of native.shards()) {
    for (const row of shard.rows) {
      if (Number.isInteger(row.rowId) && row.rowId >= 0 && row.rowId < total) digests.set(Buffer.from(rowDigest(row), 'hex'), row.rowId * DIGEST_BYTES);
    }
  }
  for (let index = 0; index < count; index++) {
    const name = shown(hfDataFileName(index, count));
    const bytes = await readExportFile(name);
    checkHfFileShape(bytes, name, schema);
    const [start, end] = hfFileRows(index, count, total);
    let i = 0;
    for (const row of shardRows(bytes, name)) {
      const rowId = start + i;
      if (rowId >= end) throw new InvariantError(`${name}: holds more than its ${end - start} rows (row_id ${start}..${end - 1})`, { file: name, row: i });
      const digest = Buffer.from(rowDigest(row), 'hex');
      if (!digest.equals(digests.subarray(rowId * DIGEST_BYTES, (rowId + 1) * DIGEST_BYTES))) {
        const expected = await nativeRow(native, rowId);
        const difference = rowDifference(row, expected.row) ?? 'differs';
        throw new InvariantError(`${name} row ${i} (row_id ${rowId}, ${expected.where}): ${difference}`, { file: name, row: i, rowId });
      }
      i++;
    }
    if (start + i !== end) throw new InvariantError(`${name}: ends after ${i} rows; it must hold row_id ${start}..${end - 1}`, { file: name, row: i });
  }
}
