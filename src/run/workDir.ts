/**
 * The work directory of a build (default `<out>/.longmix-work`; `--work DIR` puts it elsewhere,
 * e.g. on a cluster's shared file system): the run record `run.json`, and per stage a directory of
 * unit outputs and records (./stages.ts). Opening it decides whether this is a new run, a resume,
 * or a build that is already done:
 *
 * - no run record: a new run (the directory must be missing or empty: a user's directory is theirs);
 * - the same run (same `runId`): resume, redoing only units without a completion record; done when
 *   the commit's completion record is there and the output directory holds its manifest;
 * - another run that committed: its record is replaced by the new run's (nothing of value is lost);
 * - another run that did not commit: refused, naming what changed, unless `restart` (which discards
 *   its work).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../core/errors.ts';
import { sha256Hex } from '../core/stableJson.ts';
import { stableStringify } from '../core/stableJson.ts';
import { MANIFEST_FILE } from '../manifest/write.ts';
import { writeAtomic } from './records.ts';
import { RUN_FORMAT, runDifferences, type RunRecord } from './runRecord.ts';
import { doneRecord, STAGES } from './stages.ts';

/** File name of the run record in a work directory. */
export const RUN_FILE = 'run.json';

/** What the work directory holds for the run asked for. */
export type RunState = 'new' | 'resume' | 'done';

/** Reads the run record of `workDir`, or null when there is none. */
export async function readRunRecord(workDir: string): Promise<RunRecord | null> {
  const text = await readFile(path.join(workDir, RUN_FILE), 'utf8').catch(() => null);
  if (text === null) return null;
  let record: RunRecord;
  try {
    record = JSON.parse(text) as RunRecord;
  } catch (error) {
    throw new PipelineError(
      `${path.join(workDir, RUN_FILE)}: not a longmix run record (${(error as Error).message}); remove it or use another --work directory`,
      { workDir },
    );
  }
  const format = (record as { format?: unknown } | null)?.format;
  if (typeof format === 'string' && format.startsWith('longmix-run/') && format !== RUN_FORMAT)
    throw new PipelineError(
      `${path.join(workDir, RUN_FILE)}: a work directory of another longmix version (${format}; this one reads ${RUN_FORMAT}), whose work it cannot reuse; add --restart to discard it, or use another --work directory`,
      { workDir, format, olderRun: true },
    );
  if (format !== RUN_FORMAT)
    throw new PipelineError(`${path.join(workDir, RUN_FILE)}: not a longmix run record; remove it or use another --work directory`, { workDir });
  return record;
}

/** True when `error` is {@link readRunRecord}'s refusal of a work directory of another longmix version. */
const isOtherVersion = (error: unknown): boolean => error instanceof PipelineError && error.context.olderRun === true;

/** Removes a work directory's contents that longmix made (run record, stage directories, logs); nothing else. */
export async function clearWorkDir(workDir: string): Promise<void> {
  for (const name of [...STAGES, 'logs', 'slurm']) await rm(path.join(workDir, name), { recursive: true, force: true });
  await rm(path.join(workDir, RUN_FILE), { force: true });
  await rm(path.join(workDir, 'timings.json'), { force: true });
}

/** Whether the run's commit is done and the output directory still holds the manifest it published. */
export async function isCommitted(run: RunRecord): Promise<boolean> {
  const record = await doneRecord(run, 'commit', 0);
  if (!record) return false;
  const text = await readFile(path.join(run.outDir, MANIFEST_FILE), 'utf8').catch(() => null);
  return text !== null && sha256Hex(text) === (record.result as { manifestSha256?: string }).manifestSha256;
}

/**
 * Opens the work directory for `current` (see the file header); writes the run record of a new run.
 * @throws PipelineError when the directory is not longmix's, or holds another unfinished run
 *   (the message lists what changed and names `--restart`).
 */
export async function openRun(current: RunRecord, restart: boolean): Promise<RunState> {
  const { workDir } = current;
  await mkdir(workDir, { recursive: true });
  let existing: RunRecord | null;
  try {
    existing = await readRunRecord(workDir);
  } catch (error) {
    // Another version's work directory: only --restart may discard it.
    if (!restart || !isOtherVersion(error)) throw error;
    await clearWorkDir(workDir);
    existing = null;
  }
  if (existing === null) {
    const entries = (await readdir(workDir)).filter((n) => !n.startsWith(`${RUN_FILE}.tmp.`));
    if (entries.length > 0)
      throw new PipelineError(
        `Work directory ${workDir} is not empty and holds no longmix run (it holds ${entries.slice(0, 5).join(', ')}); choose another --work directory`,
        { workDir },
      );
  } else if (existing.runId === current.runId && !restart) {
    if (await isCommitted(existing)) return 'done';
    if (!(await doneRecord(existing, 'commit', 0))) return 'resume';
    // Committed once, but the output directory no longer holds that build: build again.
    await clearWorkDir(workDir);
  } else if (restart || (await isCommitted(existing)) || existsSync(path.join(workDir, 'commit', 'commit.done.json'))) {
    await clearWorkDir(workDir);
  } else {
    const changes = runDifferences(existing, current);
    throw new PipelineError(
      `Work directory ${workDir} holds an unfinished build of another run, which this one cannot resume: ${changes.join('; ') || 'the run differs'}. Rerun the original command to finish it, or add --restart to discard its work and start this one.`,
      { workDir, changes },
    );
  }
  await writeAtomic(path.join(workDir, RUN_FILE), stableStringify(current));
  return 'new';
}
