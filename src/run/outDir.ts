/**
 * The output directory a build publishes into. A user's directories are theirs: a build writes
 * into a new or empty directory, or one that holds a longmix build (then it replaces only what
 * that build's manifest lists, src/commit/publish.ts); anything else is refused before the
 * directory is touched.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { buildFilesOf } from '../commit/publish.ts';
import { PENDING_FILE, readPending, sweepAbandoned, TRASH_DIR } from '../commit/pending.ts';
import { PipelineError } from '../core/errors.ts';
import { assertReplaceable, REPORT_FILE } from '../report/index.ts';
import { TOOL } from '../core/version.ts';
import { LOCK_FILE, lockOutDir, type OutDirLock } from '../manifest/lock.ts';
import { MANIFEST_FILE } from '../manifest/write.ts';
import type { Manifest } from '../manifest/types.ts';

/** Name of the default work directory inside the output directory. */
export const WORK_DIR_NAME = '.longmix-work';

/** Temporaries a killed longmix process may leave in an output directory (its own names only). */
const TEMPORARY =
  /^(manifest\.json|report\.html|shard-\d{5,}(-[0-9a-f]{8})?\.arrow|tokens\.spill|hf|megatron|\.longmix-publish\.json)\.tmp(\.[A-Za-z0-9._-]+)?$/;

/**
 * Creates the output directory and takes its lock ({@link lockOutDir}): one build per directory.
 * @throws PipelineError naming the directory when it cannot be created, or another build holds it.
 */
export async function openOutDir(outDir: string): Promise<OutDirLock> {
  try {
    await mkdir(outDir, { recursive: true });
  } catch (error) {
    throw new PipelineError(`Cannot use output directory ${outDir}: ${(error as Error).message}`, { outDir }, { cause: error });
  }
  return lockOutDir(outDir);
}

/**
 * The manifest in `outDir`, if any.
 * @returns null when there is none.
 * @throws PipelineError naming the file when it is not a longmix manifest.
 */
export async function previousManifest(outDir: string): Promise<Manifest | null> {
  const file = path.join(outDir, MANIFEST_FILE);
  const existing = await readFile(file, 'utf8').catch(() => null);
  if (existing === null) return null;
  let parsed: Partial<Manifest> | null = null;
  try {
    parsed = JSON.parse(existing) as Partial<Manifest>;
  } catch {
    parsed = null;
  }
  if (parsed?.tool?.name !== TOOL.name || !Array.isArray(parsed.shards))
    throw new PipelineError(`${file} is not a longmix manifest; choose another --out directory`, { outDir });
  return parsed as Manifest;
}

/**
 * Whether `name` in an output directory is longmix's own when no manifest is there: lock, work
 * directory, temporaries, a pending publication's record, put-aside files and the shards it lists.
 */
function isOwnLeftover(outDir: string, name: string, pendingShards: readonly string[]): boolean {
  if (name === LOCK_FILE || name === `${LOCK_FILE}.takeover` || TEMPORARY.test(name)) return true;
  if (name === PENDING_FILE || name === TRASH_DIR || pendingShards.includes(name)) return true;
  if (name !== WORK_DIR_NAME) return false;
  const dir = path.join(outDir, name);
  return existsSync(path.join(dir, 'run.json')) || readdirSync(dir).length === 0;
}

/**
 * Checks a locked output directory before a build: it must be empty (but for longmix's own
 * lock, work directory and temporaries) or hold a longmix build; an export directory the build
 * will write (`formats`) must not be there unless the previous build lists it, nor a
 * `report.html` that longmix did not write. Removes the
 * temporaries a killed build left, and, given the run's `runId`, the shards of a publication of
 * another run that was abandoned (src/commit/pending.ts).
 * @returns the previous build's manifest, or null.
 * @throws PipelineError naming the directory and what is in the way.
 */
export async function prepareOutDir(outDir: string, formats: readonly string[] = [], runId?: string): Promise<Manifest | null> {
  const previous = await previousManifest(outDir);
  if (runId !== undefined) await sweepAbandoned(outDir, runId, previous ? buildFilesOf(previous) : { shards: [], exportDirs: [], files: [] });
  if (previous === null) {
    const pending = await readPending(outDir);
    const pendingShards = pending ? [...pending.shards, ...pending.extras] : [];
    const foreign = (await readdir(outDir)).filter((name) => !isOwnLeftover(outDir, name, pendingShards)).sort();
    if (foreign.length > 0) {
      const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, … (${foreign.length} entries)` : '');
      throw new PipelineError(
        `Output directory ${outDir} is not empty and holds no longmix build (it holds ${shown}); longmix writes only into a new or empty directory, or one a longmix build wrote. Choose another --out.`,
        { outDir },
      );
    }
  }
  await assertReplaceable(path.join(outDir, REPORT_FILE));
  const listed = previous ? buildFilesOf(previous).exportDirs : [];
  for (const name of formats) {
    if (existsSync(path.join(outDir, name)) && !listed.includes(name)) {
      throw new PipelineError(
        `${path.join(outDir, name)} exists and is not an export of the longmix build in ${outDir}; move it away or choose another --out`,
        { outDir },
      );
    }
  }
  removeTemporariesSync(outDir);
  return previous;
}

/** Removes longmix's temporaries from `outDir` (never a finished file). Synchronous: a signal handler may call it. */
export function removeTemporariesSync(outDir: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(outDir);
  } catch {
    return;
  }
  for (const name of names) if (TEMPORARY.test(name)) rmSync(path.join(outDir, name), { force: true, recursive: true });
}
