/**
 * Export to a Megatron-LM indexed dataset (`IndexedDataset`, formerly `MMapIndexedDataset`) plus
 * the attention segments beside it; the file layouts are in ./megatronFormat.ts.
 *
 * Here: **one sequence and one document per packed row**, sequence i = the row with `row_id` i
 * (the build's training order, so `manifest.schedule.positions[i]` gives its shard and provenance),
 * each `rowTokens` ids including the padding at its end, as uint16 when the vocabulary fits
 * (Megatron's `DType.optimal_dtype`; phi3) else int32 (llama3). So S = rows, D = rows + 1,
 * length = rowTokens, pointer i = itemBytes · rowTokens · i, document indices = 0..rows.
 *
 * Megatron's stock `GPTDataset` cannot use these rows as they are (it draws `sequence_length + 1`
 * tokens per sample across rows and finds documents at EOD ids): `longmix_loader.megatron`'s
 * dataset class reads them row by row, with `<prefix>.doc_lens.npy` / `<prefix>.doc_offsets.npy`
 * for the segments (EOS ids alone cannot stand in for them: pieces split from long documents do
 * not end in EOS, and `full`-attention long rows hold several documents in one segment) and
 * `<prefix>.longmix.json` for the schedule and geometry.
 *
 * Streaming: native shards are read one at a time and each row's tokens are written at their
 * final offset (`pwrite`); `doc_lens` go to a scratch file in arrival order and are copied in row
 * order at the end. Memory: one native shard plus 12 bytes per row for the index. Every file is
 * written as `<file>.tmp`, fsynced and renamed; `<prefix>.idx` last (the commit point).
 */
import { endianness } from 'node:os';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { InvariantError, PipelineError } from '../core/errors.ts';
import { faultPoint } from '../core/fault.ts';
import type { NativeBuild } from './index.ts';
import { encodeMegatronIndex, megatronPaths, megatronSidecar, megatronTokenDtype } from './megatronFormat.ts';
import { encodeNpyHeader } from './npy.ts';

const INT32_BYTES = 4;

/** Megatron writes arrays in the machine's order; this export is defined as little-endian. */
export function assertLittleEndian(): void {
  if (endianness() !== 'LE')
    throw new PipelineError(
      'Megatron export: this machine is big-endian; Megatron indexed datasets are little-endian. Run the export on a little-endian machine',
    );
}

/** The bytes of a typed array (little-endian on the machines this runs on; see assertLittleEndian). */
function bytesOf(values: Int32Array | Uint16Array | BigInt64Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** What {@link writeMegatronDataset} wrote. */
export interface MegatronExport {
  prefix: string;
  files: ReturnType<typeof megatronPaths>;
  /** Sequences (= rows = documents). */
  sequences: number;
  /** Tokens in `<prefix>.bin` (rows × rowTokens, padding included). */
  tokens: number;
  /** int32 values in `<prefix>.doc_lens.npy` (attention segments of all rows). */
  docLensValues: number;
  /** dtype of the tokens in `<prefix>.bin`. */
  tokenDtype: 'uint16' | 'int32';
}

/** `[0, 1, …, n]` as int64 document indices (one document per sequence). */
function oneDocumentPerSequence(n: number): BigInt64Array {
  return BigInt64Array.from({ length: n + 1 }, (_, i) => BigInt(i));
}

/** A row's tokens in the export's dtype. @throws InvariantError when an id does not fit uint16. */
function tokenBytes(ids: Int32Array, uint16: boolean, where: string): Uint8Array {
  if (!uint16) return bytesOf(ids);
  const out = new Uint16Array(ids.length);
  for (let j = 0; j < ids.length; j++) {
    if (ids[j] < 0 || ids[j] > 0xffff) throw new InvariantError(`${where}: token ${j} is ${ids[j]}, outside the uint16 range of the export`, { token: j });
    out[j] = ids[j];
  }
  return bytesOf(out);
}

/** Writes every row's tokens at its row_id's offset; returns each row's doc_lens place in `scratch`. */
async function writeTokens(native: NativeBuild, bin: FileHandle, scratch: FileHandle): Promise<{ count: Int32Array; at: Float64Array; values: number }> {
  const { rowTokens } = native.manifest.geometry;
  const dtype = megatronTokenDtype(native.manifest.tokenizer.vocabSize);
  const total = native.manifest.rows.total;
  const count = new Int32Array(total).fill(-1);
  const at = new Float64Array(total);
  let values = 0;
  for await (const shard of native.shards()) {
    let k = 0;
    for (const row of shard.rows) {
      const id = row.rowId;
      const where = `${shard.info.file} row ${k} (row_id ${id})`;
      if (!(Number.isInteger(id) && id >= 0 && id < total))
        throw new InvariantError(`${where}: row_id outside [0, ${total})`, { file: shard.info.file, row: k });
      if (count[id] !== -1) throw new InvariantError(`${where}: row_id appears twice in the build`, { file: shard.info.file, row: k });
      if (row.inputIds.length !== rowTokens)
        throw new InvariantError(`${where}: ${row.inputIds.length} input ids, expected ${rowTokens}`, { file: shard.info.file, row: k });
      await bin.write(tokenBytes(row.inputIds, dtype.name === 'uint16', where), 0, rowTokens * dtype.bytes, id * rowTokens * dtype.bytes);
      const lens = Int32Array.from(row.docLens);
      await scratch.write(bytesOf(lens), 0, lens.byteLength, values * INT32_BYTES);
      count[id] = lens.length;
      at[id] = values;
      values += lens.length;
      k++;
    }
  }
  const missing = count.indexOf(-1);
  if (missing >= 0) throw new InvariantError(`row_id ${missing} is in no shard of the build (manifest says ${total} rows)`, { row: missing });
  return { count, at, values };
}

/** Writes `.doc_lens.npy` (row order, from `scratch`) and `.doc_offsets.npy`. */
async function writeSegments(scratch: FileHandle, lensFile: FileHandle, offsetsFile: FileHandle, count: Int32Array, at: Float64Array, values: number) {
  const lensHeader = encodeNpyHeader('<i4', values);
  await lensFile.write(lensHeader, 0, lensHeader.length, 0);
  const offsets = new BigInt64Array(count.length + 1);
  let position = 0;
  for (let id = 0; id < count.length; id++) {
    const buffer = Buffer.alloc(count[id] * INT32_BYTES);
    await scratch.read(buffer, 0, buffer.length, at[id] * INT32_BYTES);
    await lensFile.write(buffer, 0, buffer.length, lensHeader.length + position * INT32_BYTES);
    position += count[id];
    offsets[id + 1] = BigInt(position);
  }
  const offsetsHeader = encodeNpyHeader('<i8', offsets.length);
  await offsetsFile.write(offsetsHeader, 0, offsetsHeader.length, 0);
  await offsetsFile.write(bytesOf(offsets), 0, offsets.byteLength, offsetsHeader.length);
}

/** Writes `bytes` to a new file and fsyncs it. */
async function writeSynced(file: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes the Megatron export of `native` at `prefix` (see the file header): `.bin`, the two
 * `.npy` files, `.longmix.json`, then `.idx` last; each as `<file>.tmp`, fsynced, renamed.
 * @throws PipelineError when one of the five files exists; InvariantError when the native rows' ids are not exactly 0..rows-1 or a shard does not match its manifest.
 */
export async function writeMegatronDataset(native: NativeBuild, prefix: string): Promise<MegatronExport> {
  assertLittleEndian();
  const files = megatronPaths(prefix);
  for (const file of Object.values(files)) {
    if (
      await stat(file).then(
        () => true,
        () => false,
      )
    )
      throw new PipelineError(`${file} exists; choose another Megatron prefix or remove ${prefix}.{bin,idx,doc_lens.npy,doc_offsets.npy,longmix.json}`, {
        file,
      });
  }
  await mkdir(path.dirname(prefix), { recursive: true });
  const tmp = Object.fromEntries(Object.entries(files).map(([key, file]) => [key, `${file}.tmp`])) as typeof files;
  const scratch = `${files.docLens}.unordered.tmp`;
  const { rowTokens } = native.manifest.geometry;
  const total = native.manifest.rows.total;
  const dtype = megatronTokenDtype(native.manifest.tokenizer.vocabSize);
  try {
    const bin = await open(tmp.bin, 'w');
    const unordered = await open(scratch, 'w+');
    const lens = await open(tmp.docLens, 'w');
    const offsets = await open(tmp.docOffsets, 'w');
    let placed: Awaited<ReturnType<typeof writeTokens>>;
    try {
      placed = await writeTokens(native, bin, unordered);
      await writeSegments(unordered, lens, offsets, placed.count, placed.at, placed.values);
      await Promise.all([bin.sync(), lens.sync(), offsets.sync()]);
    } finally {
      await Promise.all([bin.close(), unordered.close(), lens.close(), offsets.close()]);
    }
    await rm(scratch, { force: true });
    await writeSynced(tmp.sidecar, Buffer.from(megatronSidecar(native, prefix, placed.values), 'utf8'));
    await writeSynced(tmp.idx, encodeMegatronIndex(new Int32Array(total).fill(rowTokens), oneDocumentPerSequence(total), dtype.code));
    for (const key of ['bin', 'docLens', 'docOffsets', 'sidecar', 'idx'] as const) {
      await faultPoint(`export:megatron:before-rename-${key}`);
      await rename(tmp[key], files[key]);
    }
    return { prefix, files, sequences: total, tokens: total * rowTokens, docLensValues: placed.values, tokenDtype: dtype.name };
  } finally {
    await Promise.all([...Object.values(tmp), scratch].map((file) => rm(file, { force: true })));
  }
}
