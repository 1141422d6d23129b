/**
 * The files of a Megatron-LM export (./megatron.ts) as pure functions. The token files follow
 * NVIDIA/Megatron-LM `megatron/core/datasets/indexed_dataset.py` at commit d98e8a6 (a copy is in
 * ../shared/consumers/megatron): `_IndexWriter.__enter__`/`write`, `DType`. All integers
 * little-endian.
 *
 * `<prefix>.idx`:
 * | offset | type | value |
 * |---|---|---|
 * | 0 | 9 bytes | `MMIDIDX\x00\x00` |
 * | 9 | u64 | version, 1 |
 * | 17 | u8 | dtype code of the tokens in .bin: 8 = uint16 when the vocabulary has fewer than 65,500 ids (Megatron's `DType.optimal_dtype`, as its `tools/preprocess_data.py` writes), else 4 = int32 |
 * | 18 | u64 | sequence count S |
 * | 26 | u64 | document-index count D = documents + 1 (`len(document_indices)`) |
 * | 34 | int32[S] | sequence lengths, tokens |
 * | 34 + 4S | int64[S] | sequence pointers: byte offset of each sequence in .bin |
 * | 34 + 12S | int64[D] | document indices: `[0, …]`, document k = sequences `[d[k], d[k+1])` |
 *
 * `<prefix>.bin`: the sequences' tokens back to back, in the dtype of the index. Attention
 * segments live beside them under names no `*.bin` or `*.idx` glob picks up as tokens:
 * `<prefix>.doc_lens.npy` (int32, every row's `doc_lens` in row order), `<prefix>.doc_offsets.npy`
 * (int64 [rows + 1]: row i's segments are `doc_lens[offsets[i]:offsets[i+1]]`), and
 * `<prefix>.longmix.json`, what a loader needs besides (geometry, tokenizer ids, schedule).
 */
import path from 'node:path';
import { InvariantError } from '../core/errors.ts';
import { stableStringify } from '../core/stableJson.ts';
import type { NativeBuild } from './index.ts';

/** The first 9 bytes of every `.idx`. */
export const MEGATRON_INDEX_HEADER = Uint8Array.from([0x4d, 0x4d, 0x49, 0x44, 0x49, 0x44, 0x58, 0x00, 0x00]);
/** Megatron's `DType.int32` code. */
export const MEGATRON_DTYPE_INT32 = 4;
/** Megatron's `DType.uint16` code. */
export const MEGATRON_DTYPE_UINT16 = 8;
/** Megatron's `DType.optimal_dtype`: uint16 below this many distinct ids, else int32. */
export const MEGATRON_UINT16_BELOW = 65_500;
/** Bytes before the arrays: header 9 + version 8 + dtype 1 + counts 8 + 8. */
const PREAMBLE_BYTES = 34;

/** The token dtype of an export: Megatron's `DType.optimal_dtype(vocabSize)`. */
export function megatronTokenDtype(vocabSize: number): { code: number; name: 'uint16' | 'int32'; bytes: number } {
  return vocabSize < MEGATRON_UINT16_BELOW
    ? { code: MEGATRON_DTYPE_UINT16, name: 'uint16', bytes: 2 }
    : { code: MEGATRON_DTYPE_INT32, name: 'int32', bytes: 4 };
}

/** The five files of an export at `prefix`. */
export function megatronPaths(prefix: string): { bin: string; idx: string; docLens: string; docOffsets: string; sidecar: string } {
  return {
    bin: `${prefix}.bin`,
    idx: `${prefix}.idx`,
    docLens: `${prefix}.doc_lens.npy`,
    docOffsets: `${prefix}.doc_offsets.npy`,
    sidecar: `${prefix}.longmix.json`,
  };
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

/**
 * Encodes a `.idx` (pointers are computed from the lengths and the dtype's size, as `_IndexWriter` does).
 * @param sequenceLengths - shape [S], tokens.
 * @param documentIndices - shape [documents + 1], starting at 0.
 * @param dtypeCode - {@link MEGATRON_DTYPE_INT32} or {@link MEGATRON_DTYPE_UINT16}.
 */
export function encodeMegatronIndex(sequenceLengths: Int32Array, documentIndices: BigInt64Array, dtypeCode = MEGATRON_DTYPE_INT32): Uint8Array {
  const itemBytes = BigInt(dtypeCode === MEGATRON_DTYPE_UINT16 ? 2 : 4);
  const s = sequenceLengths.length;
  const out = new Uint8Array(PREAMBLE_BYTES + 12 * s + 8 * documentIndices.length);
  const view = new DataView(out.buffer);
  out.set(MEGATRON_INDEX_HEADER, 0);
  view.setBigUint64(9, 1n, true);
  view.setUint8(17, dtypeCode);
  view.setBigUint64(18, BigInt(s), true);
  view.setBigUint64(26, BigInt(documentIndices.length), true);
  let pointer = 0n;
  for (let i = 0; i < s; i++) {
    view.setInt32(PREAMBLE_BYTES + 4 * i, sequenceLengths[i], true);
    view.setBigInt64(PREAMBLE_BYTES + 4 * s + 8 * i, pointer, true);
    pointer += BigInt(sequenceLengths[i]) * itemBytes;
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

/** Identifies the sidecar: `format` and `formatVersion` of `<prefix>.longmix.json`. */
export const MEGATRON_SIDECAR_FORMAT = { format: 'longmix-megatron', formatVersion: 2 } as const;

/**
 * The text of `<prefix>.longmix.json` (canonical JSON): the build it came from (`buildSha256`, src/manifest/identity.ts;
 * recipe), `rowTokens`, `originalWindowTokens`, `longRowAttention`, the tokenizer's ids,
 * `tokenDtype`, `rows`, `segments` (values in doc_lens.npy), the schedule's `worldSize`,
 * `globalBatchRows` and `steps`, and the four data files' base names.
 */
export function megatronSidecar(native: NativeBuild, prefix: string, segments: number): string {
  const { manifest } = native;
  const { name, vocabSize, bosId, eosId, padId } = manifest.tokenizer;
  const files = megatronPaths(path.basename(prefix));
  return stableStringify({
    ...MEGATRON_SIDECAR_FORMAT,
    buildSha256: native.buildSha256,
    recipe: { name: manifest.recipe.name, hash: manifest.recipe.hash },
    rowTokens: manifest.geometry.rowTokens,
    originalWindowTokens: manifest.geometry.originalWindowTokens,
    longRowAttention: manifest.geometry.longRowAttention,
    tokenizer: { name, vocabSize, bosId, eosId, padId },
    tokenDtype: megatronTokenDtype(vocabSize).name,
    rows: manifest.rows.total,
    segments,
    schedule: { worldSize: manifest.schedule.worldSize, globalBatchRows: manifest.schedule.globalBatchRows, steps: manifest.schedule.steps },
    files: { tokens: files.bin, index: files.idx, docLens: files.docLens, docOffsets: files.docOffsets },
  });
}
