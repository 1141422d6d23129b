/**
 * Re-reads a Megatron export (./megatron.ts) with this module's own reader of the documented
 * layout (./megatronFormat.ts, ./npy.ts) and compares it with the native build: the index
 * (header, dtype, counts, lengths, pointers, document indices) and file sizes, the two `.npy`
 * headers and offsets, the sidecar's text, then every row's tokens and `doc_lens`.
 * Memory: one native shard and one row at a time, plus the offsets (8 bytes per row).
 */
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { InvariantError } from '../core/errors.ts';
import type { NativeBuild } from './index.ts';
import { assertLittleEndian } from './megatron.ts';
import { megatronPaths, megatronSidecar, megatronTokenDtype, readMegatronIndex, type MegatronIndex } from './megatronFormat.ts';
import { npyItemBytes, parseNpyHeader, type NpyDtype } from './npy.ts';

/** Reads a whole export file; a missing file is a named InvariantError. */
async function readWhole(file: string): Promise<Buffer> {
  return readFile(file).catch((error: unknown) => {
    throw new InvariantError(`${file}: cannot read: ${(error as Error).message}`, { file }, { cause: error });
  });
}

/** The size of `file` in bytes; a missing file is a named InvariantError. */
async function sizeOf(file: string): Promise<number> {
  return stat(file).then(
    (s) => s.size,
    (error: unknown) => {
      throw new InvariantError(`${file}: cannot stat: ${(error as Error).message}`, { file }, { cause: error });
    },
  );
}

/** Checks the token index against the export's shape: dtype, `rows` sequences of `rowTokens`, one document each, pointers, .bin size. */
async function checkIndex(
  index: MegatronIndex,
  idxFile: string,
  binFile: string,
  rows: number,
  rowTokens: number,
  dtype: { code: number; name: string; bytes: number },
) {
  const fail = (message: string, row?: number): never => {
    throw new InvariantError(`${idxFile}${row === undefined ? '' : ` row ${row}`}: ${message}`, { file: idxFile, row });
  };
  if (index.dtypeCode !== dtype.code)
    fail(`dtype code ${index.dtypeCode}, expected ${dtype.code} (${dtype.name}, Megatron's DType.optimal_dtype of the vocabulary)`);
  if (index.sequenceLengths.length !== rows) fail(`${index.sequenceLengths.length} sequences, the build has ${rows} rows`);
  if (index.documentIndices.length !== rows + 1) fail(`${index.documentIndices.length} document indices, expected ${rows + 1} (one document per row)`);
  let pointer = 0n;
  for (let i = 0; i < rows; i++) {
    if (index.sequenceLengths[i] !== rowTokens) fail(`sequence length ${index.sequenceLengths[i]}, expected ${rowTokens}`, i);
    if (index.sequencePointers[i] !== pointer) fail(`sequence pointer ${index.sequencePointers[i]}, expected ${pointer}`, i);
    pointer += BigInt(rowTokens * dtype.bytes);
  }
  for (let k = 0; k <= rows; k++) if (index.documentIndices[k] !== BigInt(k)) fail(`document index ${k} is ${index.documentIndices[k]}, expected ${k}`);
  const size = await sizeOf(binFile);
  if (BigInt(size) !== pointer) throw new InvariantError(`${binFile}: ${size} bytes, its index ${idxFile} gives ${pointer}`, { file: binFile });
}

/** Opens a 1-D `.npy` of `dtype` and checks that its size matches its header. */
async function openNpy(file: string, dtype: NpyDtype, length?: number): Promise<{ handle: FileHandle; dataOffset: number; length: number }> {
  const handle = await open(file, 'r').catch((error: unknown) => {
    throw new InvariantError(`${file}: cannot open: ${(error as Error).message}`, { file }, { cause: error });
  });
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const header = parseNpyHeader(head.subarray(0, bytesRead), file);
    const size = (await handle.stat()).size;
    const expectedSize = header.dataOffset + header.length * npyItemBytes(dtype);
    if (header.dtype !== dtype) throw new InvariantError(`${file}: dtype ${header.dtype}, expected ${dtype}`, { file });
    if (length !== undefined && header.length !== length) throw new InvariantError(`${file}: ${header.length} values, expected ${length}`, { file });
    if (size !== expectedSize) throw new InvariantError(`${file}: ${size} bytes, its header gives ${expectedSize}`, { file });
    return { handle, dataOffset: header.dataOffset, length: header.length };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Compares the Megatron export at `prefix` with `native` (see the file header).
 * @throws InvariantError naming the file and row (= sequence = row_id, and the native shard row) of the first difference.
 */
export async function verifyMegatronDataset(native: NativeBuild, prefix: string): Promise<void> {
  assertLittleEndian();
  const files = megatronPaths(prefix);
  const { rowTokens } = native.manifest.geometry;
  const total = native.manifest.rows.total;
  const dtype = megatronTokenDtype(native.manifest.tokenizer.vocabSize);
  const tokenIndex = readMegatronIndex(await readWhole(files.idx), files.idx);
  await checkIndex(tokenIndex, files.idx, files.bin, total, rowTokens, dtype);
  const offsetsNpy = await openNpy(files.docOffsets, '<i8', total + 1);
  const offsets = new BigInt64Array(total + 1);
  await offsetsNpy.handle.read(new Uint8Array(offsets.buffer), 0, offsets.byteLength, offsetsNpy.dataOffset);
  await offsetsNpy.handle.close();
  const segments = Number(offsets[total]);
  for (let i = 0; i < total; i++)
    if (offsets[i + 1] < offsets[i] || offsets[0] !== 0n)
      throw new InvariantError(`${files.docOffsets}: offsets not increasing from 0 at row ${i}`, { file: files.docOffsets, row: i });
  if ((await readWhole(files.sidecar)).toString('utf8') !== megatronSidecar(native, prefix, segments))
    throw new InvariantError(`${files.sidecar}: differs from what the export of this build writes (stale export or edited file)`, { file: files.sidecar });
  const lensNpy = await openNpy(files.docLens, '<i4', segments);
  const bin = await open(files.bin, 'r');
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
        const raw = Buffer.alloc(rowTokens * dtype.bytes);
        await bin.read(raw, 0, raw.length, Number(tokenIndex.sequencePointers[id]));
        const tokens = dtype.bytes === 2 ? new Uint16Array(raw.buffer, raw.byteOffset, rowTokens) : new Int32Array(raw.buffer, raw.byteOffset, rowTokens);
        for (let j = 0; j < rowTokens; j++) {
          if (tokens[j] !== row.inputIds[j])
            throw new InvariantError(`${where(files.bin)}: token ${j} is ${tokens[j]}, native input_ids has ${row.inputIds[j]}`, {
              file: files.bin,
              row: id,
              token: j,
            });
        }
        const start = Number(offsets[id]);
        const lens = new Int32Array(Number(offsets[id + 1]) - start);
        await lensNpy.handle.read(new Uint8Array(lens.buffer), 0, lens.byteLength, lensNpy.dataOffset + 4 * start);
        const same = lens.length === row.docLens.length && lens.every((len, j) => len === row.docLens[j]);
        if (!same)
          throw new InvariantError(`${where(files.docLens)}: doc_lens [${lens.join(', ')}], native has [${row.docLens.join(', ')}]`, {
            file: files.docLens,
            row: id,
          });
        k++;
      }
    }
  } finally {
    await Promise.all([bin.close(), lensNpy.handle.close()]);
  }
}
