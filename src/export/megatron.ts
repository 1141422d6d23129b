/**
 * Export to a Megatron-LM indexed dataset (`MMapIndexedDataset`, now `IndexedDataset`), written
 * from the layout of NVIDIA/Megatron-LM `megatron/core/datasets/indexed_dataset.py`
 * (`_IndexWriter.__enter__`/`write`, `IndexedDatasetBuilder`; read at commit
 * 00caa53af30912914981c86f39db123961678bbd). All integers little-endian.
 *
 * `<prefix>.idx`:
 * | offset | type | value |
 * |---|---|---|
 * | 0 | 9 bytes | `MMIDIDX\x00\x00` |
 * | 9 | u64 | version, 1 |
 * | 17 | u8 | dtype code of the tokens in .bin: 4 = int32 (LLaMA-3 ids exceed uint16) |
 * | 18 | u64 | sequence count S |
 * | 26 | u64 | document-index count D = documents + 1 (`len(document_indices)`) |
 * | 34 | int32[S] | sequence lengths, tokens |
 * | 34 + 4S | int64[S] | sequence pointers: byte offset of each sequence in .bin |
 * | 34 + 12S | int64[D] | document indices: `[0, …]`, document k = sequences `[d[k], d[k+1])` |
 *
 * (No trailing int8 modes: not multimodal.) `<prefix>.bin` is the sequences' tokens back to back.
 *
 * Here: **one sequence and one document per packed row**, sequence i = the row with `row_id` i
 * (the build's global schedule order, so `manifest.schedule.positions[i]` gives its shard and
 * provenance), each `rowTokens` int32 ids including the padding at its end. So S = rows,
 * D = rows + 1, length = rowTokens, pointer i = 4 · rowTokens · i, document indices = 0..rows.
 *
 * Document boundaries go to a second indexed dataset of the same layout,
 * `<prefix>_doc_lens.{bin,idx}` (int32): sequence i = row i's `doc_lens` (attention segment
 * lengths in row order, padding excluded), one document per row. A loader opens it with the same
 * `IndexedDataset` class and builds `cu_seqlens = [0, cumsum(doc_lens)]` (append `rowTokens` when
 * `sum < rowTokens` to give the padding a segment of its own) and position ids (`0..len-1` per
 * segment, 0 on padding). Chosen over a JSON sidecar: it is memory-mapped and indexed by row,
 * not parsed whole. Rows' EOS ids alone cannot stand in for it: pieces split from long documents
 * do not end in EOS, and `full`-attention long rows hold several documents in one segment.
 *
 * Streaming: native shards are read one at a time and each row's tokens are written at their
 * final offset (`pwrite`); `doc_lens` go to a scratch file in arrival order and are copied in
 * row order at the end. Memory: one native shard plus 12 bytes per row for the index.
 */
import { endianness } from 'node:os';
import { mkdir, open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { InvariantError, PipelineError } from '../core/errors.ts';
import type { NativeBuild } from './index.ts';

/** The first 9 bytes of every `.idx`. */
export const MEGATRON_INDEX_HEADER = Uint8Array.from([0x4d, 0x4d, 0x49, 0x44, 0x49, 0x44, 0x58, 0x00, 0x00]);
/** Megatron's `DType.int32` code. */
export const MEGATRON_DTYPE_INT32 = 4;
/** Bytes before the arrays: header 9 + version 8 + dtype 1 + counts 8 + 8. */
const PREAMBLE_BYTES = 34;
const INT32_BYTES = 4;

/** The four files of an export at `prefix`. */
export function megatronPaths(prefix: string): { bin: string; idx: string; docLensBin: string; docLensIdx: string } {
  return { bin: `${prefix}.bin`, idx: `${prefix}.idx`, docLensBin: `${prefix}_doc_lens.bin`, docLensIdx: `${prefix}_doc_lens.idx` };
}

/** A parsed `.idx`. */
export interface MegatronIndex {
  dtypeCode: number;
  /** Shape [S], tokens. */
  sequenceLengths: Int32Array;
  /** Shape [S], byte offsets into .bin. */
  sequencePointers: BigInt64Array;
  /** Shape [D] = [documents + 1]. */
  documentIndices: BigInt64Array;
}

/** Megatron writes arrays in the machine's order; this export is defined as little-endian. */
function assertLittleEndian(): void {
  if (endianness() !== 'LE')
    throw new PipelineError(
      'Megatron export: this machine is big-endian; Megatron indexed datasets are little-endian. Run the export on a little-endian machine',
    );
}

/**
 * Encodes an int32-token `.idx` (pointers are computed from the lengths, as `_IndexWriter` does).
 * @param sequenceLengths - shape [S], tokens.
 * @param documentIndices - shape [documents + 1], starting at 0.
 */
export function encodeMegatronIndex(sequenceLengths: Int32Array, documentIndices: BigInt64Array): Uint8Array {
  const s = sequenceLengths.length;
  const out = new Uint8Array(PREAMBLE_BYTES + 12 * s + 8 * documentIndices.length);
  const view = new DataView(out.buffer);
  out.set(MEGATRON_INDEX_HEADER, 0);
  view.setBigUint64(9, 1n, true);
  view.setUint8(17, MEGATRON_DTYPE_INT32);
  view.setBigUint64(18, BigInt(s), true);
  view.setBigUint64(26, BigInt(documentIndices.length), true);
  let pointer = 0n;
  for (let i = 0; i < s; i++) {
    view.setInt32(PREAMBLE_BYTES + 4 * i, sequenceLengths[i], true);
    view.setBigInt64(PREAMBLE_BYTES + 4 * s + 8 * i, pointer, true);
    pointer += BigInt(sequenceLengths[i] * INT32_BYTES);
  }
  documentIndices.forEach((d, k) => view.setBigInt64(PREAMBLE_BYTES + 12 * s + 8 * k, d, true));
  return out;
}

/**
 * Parses a `.idx` (the layout in the file header).
 * @param file - for messages only.
 * @throws InvariantError on a wrong header or version, or a size that the counts do not give.
 */
export function readMegatronIndex(bytes: Uint8Array, file: string): MegatronIndex {
  const fail = (message: string): never => {
    throw new InvariantError(`${file}: ${message}`, { file });
  };
  if (bytes.length < PREAMBLE_BYTES) fail(`${bytes.length} bytes, shorter than the ${PREAMBLE_BYTES}-byte preamble`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (MEGATRON_INDEX_HEADER.some((b, i) => bytes[i] !== b))
    fail(`header ${Buffer.from(bytes.subarray(0, 9)).toString('hex')}, expected ${Buffer.from(MEGATRON_INDEX_HEADER).toString('hex')} (MMIDIDX\\x00\\x00)`);
  const version = view.getBigUint64(9, true);
  if (version !== 1n) fail(`version ${version}, expected 1`);
  const s = Number(view.getBigUint64(18, true));
  const d = Number(view.getBigUint64(26, true));
  const size = PREAMBLE_BYTES + 12 * s + 8 * d;
  if (bytes.length !== size) fail(`${bytes.length} bytes, but ${s} sequences and ${d} document indices take ${size}`);
  const copy = (from: number, length: number) => new Uint8Array(bytes.subarray(from, from + length)).buffer;
  return {
    dtypeCode: view.getUint8(17),
    sequenceLengths: new Int32Array(copy(PREAMBLE_BYTES, 4 * s)),
    sequencePointers: new BigInt64Array(copy(PREAMBLE_BYTES + 4 * s, 8 * s)),
    documentIndices: new BigInt64Array(copy(PREAMBLE_BYTES + 12 * s, 8 * d)),
  };
}

/** The bytes of an Int32Array (little-endian on the machines this runs on; see assertLittleEndian). */
function bytesOf(values: Int32Array): Uint8Array {
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
  /** int32 values in `<prefix>_doc_lens.bin` (attention segments). */
  docLensValues: number;
}

/** `[0, 1, …, n]` as int64 document indices (one document per sequence). */
function oneDocumentPerSequence(n: number): BigInt64Array {
  return BigInt64Array.from({ length: n + 1 }, (_, i) => BigInt(i));
}

/** Writes every row's tokens at its row_id's offset; returns each row's doc_lens place in `scratch`. */
async function writeTokens(native: NativeBuild, bin: FileHandle, scratch: FileHandle): Promise<{ count: Int32Array; at: Float64Array; values: number }> {
  const { rowTokens } = native.manifest.geometry;
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
      await bin.write(bytesOf(row.inputIds), 0, rowTokens * INT32_BYTES, id * rowTokens * INT32_BYTES);
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

/** Copies each row's doc_lens from `scratch` into `out`, in row_id order. */
async function copyDocLensInRowOrder(scratch: FileHandle, out: FileHandle, count: Int32Array, at: Float64Array): Promise<void> {
  let position = 0;
  for (let id = 0; id < count.length; id++) {
    const buffer = Buffer.alloc(count[id] * INT32_BYTES);
    await scratch.read(buffer, 0, buffer.length, at[id] * INT32_BYTES);
    await out.write(buffer, 0, buffer.length, position);
    position += buffer.length;
  }
}

/**
 * Writes the Megatron export of `native` at `prefix` (see the file header): the two .bin files,
 * then `<prefix>_doc_lens.idx`, then `<prefix>.idx` last; each as `<file>.tmp`, fsynced, renamed.
 * @throws PipelineError when one of the four files exists; InvariantError when the native rows' ids are not exactly 0..rows-1 or a shard does not match its manifest.
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
      throw new PipelineError(`${file} exists; choose another Megatron prefix or remove ${prefix}.{bin,idx} and ${prefix}_doc_lens.{bin,idx}`, { file });
  }
  await mkdir(path.dirname(prefix), { recursive: true });
  const tmp = {
    bin: `${files.bin}.tmp`,
    idx: `${files.idx}.tmp`,
    docLensBin: `${files.docLensBin}.tmp`,
    docLensIdx: `${files.docLensIdx}.tmp`,
    scratch: `${files.docLensBin}.unordered.tmp`,
  };
  const { rowTokens } = native.manifest.geometry;
  const total = native.manifest.rows.total;
  try {
    const bin = await open(tmp.bin, 'w');
    const scratch = await open(tmp.scratch, 'w+');
    const docBin = await open(tmp.docLensBin, 'w');
    let placed: Awaited<ReturnType<typeof writeTokens>>;
    try {
      placed = await writeTokens(native, bin, scratch);
      await copyDocLensInRowOrder(scratch, docBin, placed.count, placed.at);
      await bin.sync();
      await docBin.sync();
    } finally {
      await Promise.all([bin.close(), scratch.close(), docBin.close()]);
    }
    await rm(tmp.scratch, { force: true });
    const tokenIndex = encodeMegatronIndex(new Int32Array(total).fill(rowTokens), oneDocumentPerSequence(total));
    const docLensIndex = encodeMegatronIndex(placed.count, oneDocumentPerSequence(total));
    for (const [file, bytes] of [
      [tmp.docLensIdx, docLensIndex],
      [tmp.idx, tokenIndex],
    ] as const) {
      const handle = await open(file, 'w');
      await handle.writeFile(bytes);
      await handle.sync();
      await handle.close();
    }
    for (const key of ['bin', 'docLensBin', 'docLensIdx', 'idx'] as const) await rename(tmp[key], files[key]);
    return { prefix, files, sequences: total, tokens: total * rowTokens, docLensValues: placed.values };
  } finally {
    await Promise.all(Object.values(tmp).map((file) => rm(file, { force: true })));
  }
}

/** Reads and parses an `.idx`; a missing file is a named InvariantError. */
async function loadIndex(file: string): Promise<MegatronIndex> {
  const bytes = await readFile(file).catch((error: unknown) => {
    throw new InvariantError(`${file}: cannot read: ${(error as Error).message}`, { file }, { cause: error });
  });
  return readMegatronIndex(bytes, file);
}

/**
 * Checks an index against the export's shape: int32, `rows` sequences, one document per
 * sequence, pointers = running sum of lengths × 4, optional fixed length; and the .bin's size.
 */
async function checkIndex(index: MegatronIndex, idxFile: string, binFile: string, rows: number, fixedLength?: number): Promise<void> {
  const fail = (message: string, row?: number): never => {
    throw new InvariantError(`${idxFile}${row === undefined ? '' : ` row ${row}`}: ${message}`, { file: idxFile, row });
  };
  if (index.dtypeCode !== MEGATRON_DTYPE_INT32) fail(`dtype code ${index.dtypeCode}, expected ${MEGATRON_DTYPE_INT32} (int32)`);
  if (index.sequenceLengths.length !== rows) fail(`${index.sequenceLengths.length} sequences, the build has ${rows} rows`);
  if (index.documentIndices.length !== rows + 1) fail(`${index.documentIndices.length} document indices, expected ${rows + 1} (one document per row)`);
  let pointer = 0n;
  for (let i = 0; i < rows; i++) {
    if (fixedLength !== undefined && index.sequenceLengths[i] !== fixedLength) fail(`sequence length ${index.sequenceLengths[i]}, expected ${fixedLength}`, i);
    if (index.sequencePointers[i] !== pointer) fail(`sequence pointer ${index.sequencePointers[i]}, expected ${pointer}`, i);
    pointer += BigInt(index.sequenceLengths[i] * INT32_BYTES);
  }
  for (let k = 0; k <= rows; k++) if (index.documentIndices[k] !== BigInt(k)) fail(`document index ${k} is ${index.documentIndices[k]}, expected ${k}`);
  const size = await stat(binFile).then(
    (s) => s.size,
    (error: unknown) => fail(`cannot stat ${binFile}: ${(error as Error).message}`),
  );
  if (BigInt(size) !== pointer) throw new InvariantError(`${binFile}: ${size} bytes, its index ${idxFile} gives ${pointer}`, { file: binFile });
}

/** Reads `count` int32 values at byte `position`. */
async function readInt32(handle: FileHandle, count: number, position: number): Promise<Int32Array> {
  const buffer = new Int32Array(count);
  await handle.read(bytesOf(buffer), 0, count * INT32_BYTES, position);
  return buffer;
}

/**
 * Compares the Megatron export at `prefix` with `native`: both indexes (header, counts, lengths,
 * pointers, document indices), file sizes, then every row's tokens and `doc_lens`.
 * @throws InvariantError naming the file and row (= sequence = row_id, and the native shard row) of the first difference.
 */
export async function verifyMegatronDataset(native: NativeBuild, prefix: string): Promise<void> {
  assertLittleEndian();
  const files = megatronPaths(prefix);
  const { rowTokens } = native.manifest.geometry;
  const total = native.manifest.rows.total;
  const tokenIndex = await loadIndex(files.idx);
  await checkIndex(tokenIndex, files.idx, files.bin, total, rowTokens);
  const docIndex = await loadIndex(files.docLensIdx);
  await checkIndex(docIndex, files.docLensIdx, files.docLensBin, total);
  const bin = await open(files.bin, 'r');
  const docBin = await open(files.docLensBin, 'r');
  try {
    for await (const shard of native.shards()) {
      let k = 0;
      for (const row of shard.rows) {
        const id = row.rowId;
        const where = (file: string) => `${file} row ${id} (native ${shard.info.file} row ${k})`;
        if (!(Number.isInteger(id) && id >= 0 && id < total))
          throw new InvariantError(`${shard.info.file} row ${k}: row_id ${id} outside [0, ${total}); run \`pipeline verify\``, {
            file: shard.info.file,
            row: k,
          });
        const tokens = await readInt32(bin, rowTokens, Number(tokenIndex.sequencePointers[id]));
        for (let j = 0; j < rowTokens; j++) {
          if (tokens[j] !== row.inputIds[j])
            throw new InvariantError(`${where(files.bin)}: token ${j} is ${tokens[j]}, native input_ids has ${row.inputIds[j]}`, {
              file: files.bin,
              row: id,
              token: j,
            });
        }
        const lens = await readInt32(docBin, docIndex.sequenceLengths[id], Number(docIndex.sequencePointers[id]));
        const same = lens.length === row.docLens.length && lens.every((len, j) => len === row.docLens[j]);
        if (!same)
          throw new InvariantError(`${where(files.docLensBin)}: doc_lens [${lens.join(', ')}], native has [${row.docLens.join(', ')}]`, {
            file: files.docLensBin,
            row: id,
          });
        k++;
      }
    }
  } finally {
    await Promise.all([bin.close(), docBin.close()]);
  }
}
