/**
 * Publishing a build into its output directory with no gap: until the new `manifest.json` is
 * atomically in place, the previous build there stays complete and readable.
 *
 * Why it works: a build's shards are named `shard-NNNNN-<build>.arrow` (src/plan/reduce.ts), so
 * the new shards are moved in beside the old ones without replacing any; an identical rebuild has
 * the same names and the same bytes. The manifest rename is the switch. Only then are the files
 * the previous manifest lists (and the new one does not) removed, and nothing else: a user's file
 * in the directory is never touched.
 *
 * Steps, each safe to redo after a crash (a journal in the work directory records what the
 * previous build owned, since after the switch its manifest is gone):
 * 1. journal: the previous build's shards, exports and report (written once);
 * 2. move each staged shard into the output directory (rename; across file systems a copy, fsync
 *    and rename), skipping those already moved;
 * 3. exports (`hf/`, `megatron/`): the previous build's listed export directory is moved aside,
 *    the staged one renamed in (the one step with a short window: an export directory of the
 *    previous build is replaced just before the manifest switch);
 * 4. `report.html`, then `manifest.json` (atomic rename: the commit point);
 * 5. remove what the journal lists that the new manifest does not.
 */
import { copyFile, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PipelineError } from '../core/errors.ts';
import { faultPoint } from '../core/fault.ts';
import { stableStringify } from '../core/stableJson.ts';
import type { Manifest } from '../manifest/types.ts';
import { SHARD_FILE } from '../manifest/write.ts';

/** What a published build owns in its output directory, relative to it. */
export interface BuildFiles {
  /** Shard files. */
  shards: string[];
  /** Export directories (`hf`, `megatron`). */
  exportDirs: string[];
  /** Other files (`report.html`). */
  files: string[];
}

const EXPORT_DIRS = ['hf', 'megatron'];

/**
 * The files a manifest says are its build's: its shards, the export directories it lists and its
 * report. Names are checked, so a tampered manifest cannot make a build remove anything else.
 */
export function buildFilesOf(manifest: Manifest): BuildFiles {
  return {
    shards: manifest.shards.map((s) => s.file).filter((f) => SHARD_FILE.test(f)),
    exportDirs: Object.values(manifest.exports ?? {}).filter((d): d is string => typeof d === 'string' && EXPORT_DIRS.includes(d)),
    files: manifest.report === 'report.html' ? ['report.html'] : [],
  };
}

/** The journal of one publication. */
interface Journal {
  previous: BuildFiles;
}

/** What to publish, and where. */
export interface Publication {
  outDir: string;
  /** Directory holding the staged shards under their final names. */
  shardsDir: string;
  /** Directory holding staged export directories and `report.html`, when any. */
  extrasDir: string;
  /** The new build's manifest (complete). */
  manifest: Manifest;
  /** The previous build's manifest in `outDir`, or null. */
  previous: Manifest | null;
  /** The journal file (in the work directory). */
  journalFile: string;
  /** A directory for the previous exports moved aside (in the work directory, same file system as `extrasDir`). */
  trashDir: string;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Flushes a file's data to disk. */
async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Moves file `from` to `to` (rename; across file systems: copy, fsync, rename, remove). */
export async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    const tmp = `${to}.tmp.move`;
    await copyFile(from, tmp);
    await syncFile(tmp);
    await rename(tmp, to);
    await rm(from, { force: true });
  }
}

/** Writes text to `target` through a flushed temporary and a rename. */
async function writeTextAtomic(target: string, text: string): Promise<void> {
  const tmp = `${target}.tmp.commit`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, target);
}

/** Reads the journal, or writes it from the previous manifest when there is none yet. */
async function journalOf(p: Publication): Promise<Journal> {
  const text = await readFile(p.journalFile, 'utf8').catch(() => null);
  if (text !== null) return JSON.parse(text) as Journal;
  const journal: Journal = { previous: p.previous ? buildFilesOf(p.previous) : { shards: [], exportDirs: [], files: [] } };
  await mkdir(path.dirname(p.journalFile), { recursive: true });
  await writeTextAtomic(p.journalFile, stableStringify(journal));
  return journal;
}

/**
 * Publishes the build (see the file header). Idempotent: after a crash at any point, calling it
 * again with the same publication finishes the job.
 * @throws PipelineError when a staged shard is missing from both the staging and the output
 *   directory, or an export directory in the way is not the previous build's.
 */
export async function publish(p: Publication): Promise<void> {
  const journal = await journalOf(p);
  const fresh = buildFilesOf(p.manifest);
  for (const file of fresh.shards) {
    const staged = path.join(p.shardsDir, file);
    const target = path.join(p.outDir, file);
    if (await exists(staged)) await moveFile(staged, target);
    else if (!(await exists(target)))
      throw new PipelineError(`${file}: the staged shard is in neither ${p.shardsDir} nor ${p.outDir}; rerun the build (its write stage is redone)`, { file });
  }
  await faultPoint('commit:commit:shards-moved');
  for (const dir of fresh.exportDirs) {
    const staged = path.join(p.extrasDir, dir);
    const target = path.join(p.outDir, dir);
    if (!existsSync(staged)) continue; // moved in by an earlier attempt
    if (existsSync(target)) {
      if (!journal.previous.exportDirs.includes(dir))
        throw new PipelineError(`${target} exists and is not an export of the previous longmix build in ${p.outDir}; move it away and rerun`, { dir: target });
      await mkdir(p.trashDir, { recursive: true });
      await rm(path.join(p.trashDir, dir), { recursive: true, force: true });
      await rename(target, path.join(p.trashDir, dir));
    }
    await rename(staged, target);
  }
  for (const file of fresh.files) {
    const staged = path.join(p.extrasDir, file);
    if (await exists(staged)) await moveFile(staged, path.join(p.outDir, file));
  }
  await faultPoint('commit:commit:before-manifest');
  await writeTextAtomic(path.join(p.outDir, 'manifest.json'), stableStringify(p.manifest));
  await faultPoint('commit:commit:after-manifest');
  // The switch is done: remove what only the previous build owned.
  for (const file of journal.previous.shards) if (!fresh.shards.includes(file)) await rm(path.join(p.outDir, file), { force: true });
  for (const file of journal.previous.files) if (!fresh.files.includes(file)) await rm(path.join(p.outDir, file), { force: true });
  for (const dir of journal.previous.exportDirs) if (!fresh.exportDirs.includes(dir)) await rm(path.join(p.outDir, dir), { recursive: true, force: true });
  await rm(p.trashDir, { recursive: true, force: true });
}
