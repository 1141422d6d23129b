/**
 * Exports of a finished native build (manifest.json + Arrow IPC stream shards) into other
 * trainers' formats, and the check that re-reads them token for token:
 *
 * - {@link exportHf}: the directory `datasets.Dataset.save_to_disk` writes, rows in training
 *   (`row_id`) order (./hf.ts, ./hfFormat.ts);
 * - {@link exportMegatron}: a Megatron-LM indexed dataset `<prefix>.{bin,idx}` (uint16 tokens when
 *   the vocabulary fits, else int32) plus the attention segments `<prefix>.doc_lens.npy`,
 *   `<prefix>.doc_offsets.npy` and `<prefix>.longmix.json` (./megatron.ts, ./megatronFormat.ts);
 * - {@link verifyExports}: re-reads either or both and compares them with the native shards
 *   (./hfVerify.ts, ./megatronVerify.ts).
 *
 * Native shards are read with `shardRows` one at a time, in manifest order, each checked against
 * the manifest's size and SHA-256 first, so an export never carries a shard the manifest does not
 * vouch for. Memory: one native shard at a time, plus what each format notes.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InvariantError, PipelineError } from '../core/errors.ts';
import { sha256Hex } from '../core/stableJson.ts';
import { buildSha256 } from '../manifest/identity.ts';
import type { Manifest } from '../manifest/types.ts';
import { MANIFEST_FILE, readManifest } from '../manifest/write.ts';
import { readShardBytes, shardRows } from '../shard/reader.ts';
import type { ShardInfo } from '../shard/writer.ts';
import type { RowRecord } from '../shard/schema.ts';
import { writeHfDataset, type HfExport, type HfExportOptions } from './hf.ts';
import { verifyHfDataset } from './hfVerify.ts';
import { writeMegatronDataset, type MegatronExport } from './megatron.ts';
import { verifyMegatronDataset } from './megatronVerify.ts';

export { HF_SCRATCH_FILE, type HfExport, type HfExportOptions } from './hf.ts';
export {
  DEFAULT_HF_FORMAT_COLUMNS,
  HF_INFO_FILE,
  HF_STATE_FILE,
  NNSCALER_FORMAT_COLUMNS,
  hfDataFileName,
  hfDatasetInfo,
  hfFeatures,
  hfFileRows,
  hfFingerprint,
  hfSchema,
  hfState,
  pythonJson,
  rowDifference,
} from './hfFormat.ts';
export { type MegatronExport } from './megatron.ts';
export { findExports, type FoundExports, type IncompleteExport } from './discover.ts';
export {
  MEGATRON_DTYPE_INT32,
  MEGATRON_DTYPE_UINT16,
  MEGATRON_INDEX_HEADER,
  MEGATRON_SIDECAR_FORMAT,
  encodeMegatronIndex,
  megatronPaths,
  megatronTokenDtype,
  readMegatronIndex,
  type MegatronIndex,
} from './megatronFormat.ts';
export { encodeNpyHeader, parseNpyHeader } from './npy.ts';
export { decodeRow, encodeRow } from './rowOrder.ts';

/** One native shard, read and checked against the manifest. */
export interface NativeShard {
  /** Index of the shard in `manifest.shards`. */
  index: number;
  info: ShardInfo;
  /** The shard's rows in file order (views into the shard's bytes, valid while they are held). */
  rows: Generator<RowRecord>;
}

/** A finished native build, opened for reading. */
export interface NativeBuild {
  dir: string;
  manifest: Manifest;
  /** The build digest (src/manifest/identity.ts): SHA-256 of its manifest without `report` and `exports`; it pins every shard's SHA-256. */
  buildSha256: string;
  /**
   * Yields the shards in manifest order, one in memory at a time.
   * @throws InvariantError when a shard is missing or its size or SHA-256 differs from the manifest's.
   */
  shards(): AsyncGenerator<NativeShard>;
}

/**
 * Opens the build in `buildDir`; or, with `staged`, the shards in `buildDir` described by a
 * manifest not yet written there (the commit stage exports a build before publishing it).
 * @throws PipelineError when it has no valid manifest (not a finished build).
 */
export async function openNativeBuild(buildDir: string, staged?: { manifest: Manifest }): Promise<NativeBuild> {
  const manifest = staged ? staged.manifest : await readManifest(buildDir);
  async function* shards(): AsyncGenerator<NativeShard> {
    for (const [index, info] of manifest.shards.entries()) {
      const file = path.join(buildDir, info.file);
      const bytes = await readShardBytes(file).catch((error: unknown) => {
        throw new InvariantError(`${info.file}: cannot read native shard: ${(error as Error).message}`, { file }, { cause: error });
      });
      const sha256 = sha256Hex(bytes);
      if (bytes.length !== info.sizeBytes || sha256 !== info.sha256) {
        throw new InvariantError(
          `${info.file}: ${bytes.length} bytes with sha256 ${sha256}, manifest says ${info.sizeBytes} bytes with ${info.sha256}; run \`pipeline verify ${buildDir}\``,
          { file },
        );
      }
      yield { index, info, rows: shardRows(bytes, info.file) };
    }
  }
  return { dir: buildDir, manifest, buildSha256: buildSha256(manifest), shards };
}

/**
 * Writes the build in `buildDir` as a Hugging Face `datasets` directory (`save_to_disk` layout):
 * as many `data-NNNNN-of-MMMMM.arrow` as native shards, the rows in `row_id` (training) order,
 * then `dataset_info.json` and `state.json` (last: the commit point). See ./hf.ts.
 * @param targetDir - created; must be missing or empty.
 * @param options - `formatColumns` (state.json `_format_columns`; default `DEFAULT_HF_FORMAT_COLUMNS`, null = all).
 * @throws PipelineError when `targetDir` is not empty, a format column is unknown or the build has no manifest; InvariantError when a native shard does not match the manifest.
 */
export async function exportHf(buildDir: string, targetDir: string, options: HfExportOptions = {}): Promise<HfExport> {
  return writeHfDataset(await openNativeBuild(buildDir), targetDir, options);
}

/**
 * Writes the build in `buildDir` as a Megatron-LM indexed dataset: `<prefix>.bin`/`.idx` (one
 * sequence and one document per row, sequence i = row_id i; uint16 when the vocabulary has fewer
 * than 65,500 ids, else int32), `<prefix>.doc_lens.npy` + `<prefix>.doc_offsets.npy` (row i's
 * `doc_lens`) and `<prefix>.longmix.json` (geometry, tokenizer ids, schedule). See ./megatron.ts.
 * @param targetPrefix - path without extension; its directory is created; none of the five files may exist.
 * @throws PipelineError when a target file exists or the build has no manifest; InvariantError when a native shard does not match the manifest.
 */
export async function exportMegatron(buildDir: string, targetPrefix: string): Promise<MegatronExport> {
  return writeMegatronDataset(await openNativeBuild(buildDir), targetPrefix);
}

/** Where the exports to check are; at least one. */
export interface ExportTargets {
  /** A directory written by {@link exportHf}. */
  hfDir?: string;
  /** A prefix written by {@link exportMegatron}. */
  megatronPrefix?: string;
}

/** What a successful {@link verifyExports} compared. */
export interface ExportsReport {
  /** Native rows compared with each export. */
  rows: number;
  /** Token ids compared per export (rows × rowTokens). */
  tokens: number;
  hf: boolean;
  megatron: boolean;
}

/**
 * Re-reads the exports of `buildDir` (or of an opened build) and compares them with its native shards: the HF directory
 * (state.json, dataset_info.json, every data file's schema and every column of every row in
 * `row_id` order, read with apache-arrow) and the Megatron files (index, `.npy` headers and
 * offsets, sidecar, then every token and every `doc_lens` entry, read by this module's own reader
 * of the documented layout).
 * @throws InvariantError naming the export file and the row (and native shard) of the first difference; PipelineError when no target is given or the build has no manifest.
 */
export async function verifyExports(buildDir: string | NativeBuild, targets: ExportTargets): Promise<ExportsReport> {
  if (targets.hfDir === undefined && targets.megatronPrefix === undefined) {
    throw new PipelineError('verifyExports: expected `hfDir` or `megatronPrefix`, got neither; pass the export(s) to check');
  }
  const native = typeof buildDir === 'string' ? await openNativeBuild(buildDir) : buildDir;
  if (targets.hfDir !== undefined) await verifyHfDataset(native, targets.hfDir);
  if (targets.megatronPrefix !== undefined) await verifyMegatronDataset(native, targets.megatronPrefix);
  const { total } = native.manifest.rows;
  return { rows: total, tokens: total * native.manifest.geometry.rowTokens, hf: targets.hfDir !== undefined, megatron: targets.megatronPrefix !== undefined };
}
