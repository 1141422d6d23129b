/**
 * Publishing a build into its output directory with no gap: until the new `manifest.json` is
 * atomically in place, the previous build there stays complete and readable.
 *
 * Why it works: a build's shards are named `shard-NNNNN-<build>.arrow` (src/plan/reduce.ts), so
 * the new shards are moved in beside the old ones without replacing any; an identical rebuild has
 * the same names and the same bytes. The report and the exports have fixed names (`report.html`,
 * `hf/`, `megatron/`), so they are swapped only while no manifest lists them: every manifest in
 * the directory, at every moment, lists only files that are there and are its build's. Only files
 * a manifest or a longmix record lists are removed: a user's file in the directory is never touched.
 *
 * Steps, each safe to redo after a crash (a journal in the work directory records what the
 * previous build owned, since after the switch its manifest is gone; a record in the output
 * directory names the shards being moved in, so an abandoned publication's are swept, ./pending.ts):
 * 1. journal; the pending-publication record (sweeping another run's abandoned one first);
 * 2. move each staged shard into the output directory (rename; across file systems a copy, fsync
 *    and rename), skipping those already moved;
 * 3. the previous manifest is rewritten without its report and exports, which are then put aside;
 * 4. the switch: the new manifest without its report and exports (atomic rename);
 * 5. the new report and exports are moved in, then the new manifest is written whole;
 * 6. the previous build's shards the new manifest does not list, the put-aside files and the
 *    record are removed.
 */
import { copyFile, cp, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PipelineError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/atomicFile.ts';
import { faultPoint } from '../core/fault.ts';
import { stableStringify } from '../core/stableJson.ts';
import type { Manifest } from '../manifest/types.ts';
import { SHARD_FILE } from '../manifest/write.ts';
import { withoutDerived } from '../manifest/identity.ts';
import { clearPending, putAside, recordPending, sweepAbandoned } from './pending.ts';

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
  /** The run publishing (its `runId`): names its pending-publication record (./pending.ts). */
  runId: string;
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

/** Reads the journal, or writes it from the previous manifest when there is none yet. */
async function journalOf(p: Publication): Promise<Journal> {
  const text = await readFile(p.journalFile, 'utf8').catch(() => null);
  if (text !== null) return JSON.parse(text) as Journal;
  const journal: Journal = { previous: p.previous ? buildFilesOf(p.previous) : { shards: [], exportDirs: [], files: [] } };
  await mkdir(path.dirname(p.journalFile), { recursive: true });
  await writeFileAtomic(p.journalFile, stableStringify(journal));
  return journal;
}

/** The manifest in `outDir` as its canonical text, or null. */
async function currentManifestText(outDir: string): Promise<string | null> {
  const text = await readFile(path.join(outDir, 'manifest.json'), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return stableStringify(JSON.parse(text));
  } catch {
    return text;
  }
}

/** Moves a staged export directory in (rename; across file systems: copy, then rename, then remove). */
async function moveTree(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    const tmp = `${to}.tmp.move`;
    await rm(tmp, { recursive: true, force: true });
    await cp(from, tmp, { recursive: true });
    await rename(tmp, to);
    await rm(from, { recursive: true, force: true });
  }
}

/**
 * Publishes the build (see the file header). Idempotent: after a crash at any point, calling it
 * again with the same publication finishes the job.
 * @throws PipelineError when a staged shard is missing from both the staging and the output
 *   directory, or an export directory or report in the way is not the previous build's.
 */
export async function publish(p: Publication): Promise<void> {
  const journal = await journalOf(p);
  const fresh = buildFilesOf(p.manifest);
  const manifestFile = path.join(p.outDir, 'manifest.json');
  const previousExtras = [...journal.previous.exportDirs, ...journal.previous.files];
  const extras = [...fresh.exportDirs, ...fresh.files];
  await sweepAbandoned(p.outDir, p.runId, journal.previous);
  await recordPending(p.outDir, p.runId, [...journal.previous.shards, ...fresh.shards], [...previousExtras, ...extras]);
  for (const file of fresh.shards) {
    const staged = path.join(p.shardsDir, file);
    const target = path.join(p.outDir, file);
    if (await exists(staged)) await moveFile(staged, target);
    else if (!(await exists(target)))
      throw new PipelineError(`${file}: the staged shard is in neither ${p.shardsDir} nor ${p.outDir}; rerun the build (its write stage is redone)`, { file });
  }
  await faultPoint('commit:commit:shards-moved');
  const finalText = stableStringify(p.manifest);
  const coreText = stableStringify(withoutDerived(p.manifest));
  const isStaged = (name: string) => existsSync(path.join(p.extrasDir, name));
  // Withdraw the previous build's report and exports: from its manifest first, then from the
  // directory, so that no manifest ever lists a report or export of another build. (After an
  // earlier attempt finished this step, the manifest already lists none, or is the new one whole.)
  const current = await currentManifestText(p.outDir);
  const finished = current === finalText && !extras.some(isStaged);
  if (!finished) {
    if (current !== null && current !== coreText) {
      const listed = JSON.parse(current) as Manifest;
      if (listed.report !== undefined || listed.exports !== undefined) await writeFileAtomic(manifestFile, stableStringify(withoutDerived(listed)));
    }
    await faultPoint('commit:commit:extras-withdrawn');
    for (const name of previousExtras) {
      if (extras.includes(name) && !isStaged(name)) continue; // the new build's, moved in by an earlier attempt
      if (existsSync(path.join(p.outDir, name))) await putAside(p.outDir, name);
    }
    await faultPoint('commit:commit:before-manifest');
    // The switch: the new build's manifest, first without its report and exports.
    if ((await currentManifestText(p.outDir)) !== coreText) await writeFileAtomic(manifestFile, coreText);
    await faultPoint('commit:commit:after-manifest');
  }
  for (const name of extras) {
    if (!isStaged(name)) continue; // moved in by an earlier attempt
    const target = path.join(p.outDir, name);
    if (existsSync(target)) {
      if (!journal.previous.exportDirs.includes(name) && !journal.previous.files.includes(name))
        throw new PipelineError(`${target} exists and is not an export or report of the previous longmix build in ${p.outDir}; move it away and rerun`, {
          file: target,
        });
      await putAside(p.outDir, name);
    }
    if (fresh.files.includes(name)) await moveFile(path.join(p.extrasDir, name), target);
    else await moveTree(path.join(p.extrasDir, name), target);
  }
  await faultPoint('commit:commit:extras-moved');
  await writeFileAtomic(manifestFile, finalText);
  // The build is whole: remove what only the previous build owned.
  for (const file of journal.previous.shards) if (!fresh.shards.includes(file)) await rm(path.join(p.outDir, file), { force: true });
  await clearPending(p.outDir);
}
