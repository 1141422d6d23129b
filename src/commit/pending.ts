/**
 * The record, kept in the output directory itself, of the shards a publication is moving in
 * (`.longmix-publish.json`), and the directory where the previous build's report and exports wait
 * while they are replaced (`.longmix-trash/`).
 *
 * Shards are moved in before the manifest switch (src/commit/publish.ts), so a publication that is
 * abandoned (its work directory discarded with `--restart`, or another run built into the directory)
 * would leave them there, listed by no manifest, forever and filling the disk. The record names
 * them before the first one moves, so they are longmix's to remove: a later run sweeps the shards a
 * record of another run lists and the directory's manifest does not. It lives in the output
 * directory, not the work directory, because `--work` may point elsewhere and be discarded.
 */
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../core/atomicFile.ts';
import path from 'node:path';
import { SHARD_FILE } from '../manifest/write.ts';

/** File name of the pending-publication record in an output directory. */
export const PENDING_FILE = '.longmix-publish.json';

/** Directory in an output directory where a publication puts the previous build's report and exports aside. */
export const TRASH_DIR = '.longmix-trash';

/** What a pending-publication record holds. */
export interface PendingPublication {
  format: 'longmix-publish/1';
  /** The run publishing (src/run/runRecord.ts `runId`). */
  runId: string;
  /**
   * Shard files it touches: those it moves in and those of the previous build it removes once the
   * new manifest is in place. While the record stands, whichever of them the manifest does not
   * list is a leftover of the publication.
   */
  shards: string[];
  /**
   * Report and export names (`report.html`, `hf`, `megatron`) it swaps: the previous build's, put
   * aside, and its own, moved in. While the record stands, whichever of them the manifest does not
   * list is a leftover of the publication.
   */
  extras: string[];
}

const EXTRAS = ['report.html', 'hf', 'megatron'];

/**
 * The pending-publication record in `outDir`.
 * @returns null when there is none, or it is not a record longmix wrote (then nothing is removed on its word).
 */
export async function readPending(outDir: string): Promise<PendingPublication | null> {
  const text = await readFile(path.join(outDir, PENDING_FILE), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const parsed = JSON.parse(text) as Partial<PendingPublication>;
    if (parsed.format !== 'longmix-publish/1' || typeof parsed.runId !== 'string' || !Array.isArray(parsed.shards) || !Array.isArray(parsed.extras))
      return null;
    return {
      format: parsed.format,
      runId: parsed.runId,
      shards: parsed.shards.filter((f): f is string => typeof f === 'string' && SHARD_FILE.test(f)),
      extras: parsed.extras.filter((f): f is string => typeof f === 'string' && EXTRAS.includes(f)),
    };
  } catch {
    return null;
  }
}

/** Writes the record of run `runId` touching `shards` and swapping `extras` (flushed temporary, then rename). */
export async function recordPending(outDir: string, runId: string, shards: readonly string[], extras: readonly string[]): Promise<void> {
  const record: PendingPublication = { format: 'longmix-publish/1', runId, shards: [...new Set(shards)].sort(), extras: [...new Set(extras)].sort() };
  await writeFileAtomic(path.join(outDir, PENDING_FILE), JSON.stringify(record) + '\n');
}

/** Removes the record and the put-aside directory of a finished publication. */
export async function clearPending(outDir: string): Promise<void> {
  await rm(path.join(outDir, TRASH_DIR), { recursive: true, force: true });
  await rm(path.join(outDir, PENDING_FILE), { force: true });
}

/**
 * Sweeps an abandoned publication: when `outDir` holds a record of another run than `runId`, removes
 * the shards, report and export directories it lists that `listed` (the files of the directory's
 * manifest, as src/commit/publish.ts `buildFilesOf` gives them) does not, the put-aside directory,
 * and the record. A record of run `runId` itself is left for it to finish.
 * @returns the names removed.
 */
export async function sweepAbandoned(
  outDir: string,
  runId: string,
  listed: { shards: readonly string[]; exportDirs: readonly string[]; files: readonly string[] },
): Promise<string[]> {
  const pending = await readPending(outDir);
  if (pending === null || pending.runId === runId) return [];
  const keep = new Set([...listed.shards, ...listed.exportDirs, ...listed.files]);
  const removed = [...pending.shards, ...pending.extras].filter((f) => !keep.has(f));
  for (const name of removed) await rm(path.join(outDir, name), { recursive: true, force: true });
  await clearPending(outDir);
  return removed;
}

/** Puts `name` (a file or directory in `outDir`) aside into the trash directory, replacing what is there under that name. */
export async function putAside(outDir: string, name: string): Promise<void> {
  const trash = path.join(outDir, TRASH_DIR);
  await mkdir(trash, { recursive: true });
  await rm(path.join(trash, name), { recursive: true, force: true });
  await rename(path.join(outDir, name), path.join(trash, name));
}
