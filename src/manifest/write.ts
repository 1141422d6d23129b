/**
 * Reads and writes `manifest.json`. Writing is atomic (temporary name, then rename) and comes
 * last in a build: the manifest is the commit point, so a directory without one is not a build.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomicFile.ts';
import { PipelineError } from '../core/errors.ts';
import { stableStringify } from '../core/stableJson.ts';
import { assertNotLocked } from './lock.ts';
import type { Manifest } from './types.ts';

/** A shard's file name: `shard-` + index (5 digits or more) + `-` + 8 hex digits of the build id + `.arrow`. */
export const SHARD_FILE = /^shard-\d{5,}-[0-9a-f]{8}\.arrow$/;

/** File name of the manifest inside an output directory. */
export const MANIFEST_FILE = 'manifest.json';

/** Writes `manifest` canonically (sorted keys) to `<dir>/manifest.json` via a temporary file. */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(path.join(dir, MANIFEST_FILE), stableStringify(manifest));
}

/**
 * Reads `<dir>/manifest.json`.
 * @throws PipelineError when it is missing (an unfinished or foreign directory) or not JSON, or
 *   when another process's build is writing the directory ({@link assertNotLocked}).
 */
export async function readManifest(dir: string): Promise<Manifest> {
  assertNotLocked(dir);
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new PipelineError(`${file}: no manifest; ${dir} is not a finished longmix build`, { file }, { cause: error });
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch (error) {
    throw new PipelineError(`${file}: not valid JSON: ${(error as Error).message}`, { file }, { cause: error });
  }
  const m = manifest as Partial<Manifest> | null;
  if (
    !m ||
    m.manifestVersion !== 1 ||
    !Array.isArray(m.shards) ||
    !m.rows ||
    !m.schedule ||
    !Array.isArray(m.schedule.positions) ||
    !m.geometry ||
    !m.sources ||
    !m.tokenizer
  ) {
    throw new PipelineError(`${file}: not a longmix manifest (version 1 with shards, rows, schedule positions, geometry, sources and tokenizer)`, { file });
  }
  const counts: [string, unknown][] = [
    ['rows.total', m.rows.total],
    ['rows.short', m.rows.short],
    ['rows.long', m.rows.long],
    ['schedule.steps', m.schedule.steps],
    ['schedule.globalBatchRows', m.schedule.globalBatchRows],
    ['schedule.worldSize', m.schedule.worldSize],
  ];
  for (const [key, value] of counts) {
    if (!Number.isSafeInteger(value) || (value as number) < 0)
      throw new PipelineError(`${file}: ${key} must be an integer >= 0, got ${JSON.stringify(value)}`, { file, key });
  }
  if (m.schedule.globalBatchRows < 1 || m.schedule.worldSize < 1)
    throw new PipelineError(`${file}: schedule.globalBatchRows and schedule.worldSize must be >= 1`, { file });
  m.schedule.positions.forEach((place, p) => {
    if (!Array.isArray(place) || place.length !== 2 || !place.every((x) => Number.isSafeInteger(x) && x >= 0)) {
      throw new PipelineError(`${file}: schedule.positions[${p}] must be [shard index, row index], got ${JSON.stringify(place)}`, { file, position: p });
    }
  });
  m.shards.forEach((shard, i) => {
    if (typeof shard?.file !== 'string' || !SHARD_FILE.test(shard.file) || !Number.isSafeInteger(shard.rows) || !Number.isSafeInteger(shard.sizeBytes)) {
      throw new PipelineError(`${file}: shards[${i}] must name a shard-NNNNN-<build>.arrow file in the build directory with integer rows and sizeBytes`, {
        file,
        shard: i,
      });
    }
  });
  return manifest;
}
