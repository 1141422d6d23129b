/**
 * Free space checks before the long writes of a build: a full disk found after hours of work is
 * worse than one found before (and leaves the user to guess which file and phase). The estimate
 * is of what the write and commit stages put on disk: shards (8 bytes per row token: input_ids
 * and position_ids), the HF export (twice as much again at its peak: a scratch copy in row order,
 * then the data files) and the Megatron export (4 or 2 bytes per token).
 */
import { stat, statfs } from 'node:fs/promises';
import { bytesText } from '../core/bytesText.ts';
import { PipelineError } from '../core/errors.ts';
import type { RunRecord } from './runRecord.ts';

/** Bytes the write stage and the exports of `run` need for `rows` rows, estimated (see the file header). */
export function writeBytesEstimate(run: RunRecord, rows: number): number {
  const perRow = 8 * run.recipe.rowTokens + 1024;
  // The hf export writes its rows twice at its peak: a scratch file in row order, then the data files.
  const hf = run.formats.includes('hf') ? 2 * perRow : 0;
  const megatron = run.formats.includes('megatron') ? 4 * run.recipe.rowTokens : 0;
  return rows * (perRow + hf + megatron);
}

/** Free bytes for an unprivileged writer on the file system of `dir` (null when it cannot be told). */
export async function freeBytes(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

/**
 * Checks that the work directory (staged shards and exports) and, on another file system, the
 * output directory (where the commit copies them) have room for `bytes`.
 * @throws PipelineError naming the directory, the bytes needed and free, and the fix.
 */
export async function assertFreeSpace(run: RunRecord, bytes: number, phase: string): Promise<void> {
  const dirs = [run.workDir];
  const [work, out] = await Promise.all([stat(run.workDir).catch(() => null), stat(run.outDir).catch(() => null)]);
  if (work && out && work.dev !== out.dev) dirs.push(run.outDir);
  for (const dir of dirs) {
    const free = await freeBytes(dir);
    if (free !== null && free < bytes) {
      throw new PipelineError(
        `Not enough disk space for the ${phase}: it writes about ${bytesText(bytes)} in ${dir}, where ${bytesText(free)} are free; free space there (or give --work / --out on another file system) and run the same command again: the units done so far are kept`,
        { dir, bytes, free },
      );
    }
  }
}
