/**
 * `status`: what the records of a work directory say about a build, per stage: units done,
 * running (an attempt whose process may still run), failed (the last attempt failed; with its
 * error line) and pending. Only the records are read: a scheduler's job states are not consulted.
 */
import path from 'node:path';
import { PipelineError } from '../core/errors.ts';
import { mayBeRunning, readAttemptRecords, type FailureRecord } from './records.ts';
import type { RunRecord } from './runRecord.ts';
import { doneRecord, stageDir, STAGES, unitName, type StageName } from './stages.ts';
import { unitCount } from './task.ts';
import { isCommitted, readRunRecord } from './workDir.ts';

/** One stage's units by state. */
export interface StageStatus {
  stage: StageName;
  /** Number of units; null when not known yet (the write stage before the plan). */
  units: number | null;
  done: number;
  running: number;
  failed: FailureRecord[];
  pending: number;
}

/** A build's status. */
export interface BuildStatus {
  run: RunRecord;
  committed: boolean;
  stages: StageStatus[];
}

/**
 * Reads the status of the build whose work directory is `workDir`.
 * @throws PipelineError when it holds no run record.
 */
export async function buildStatus(workDir: string): Promise<BuildStatus> {
  const run = await readRunRecord(workDir);
  if (!run)
    throw new PipelineError(
      `${path.join(workDir, 'run.json')}: no run record; ${workDir} is not the work directory of a longmix build (give --work, or the build's --out)`,
      { workDir },
    );
  const committed = await isCommitted(run);
  const stages: StageStatus[] = [];
  for (const stage of STAGES) {
    const units = committed ? 0 : await unitCount(run, stage);
    const status: StageStatus = { stage, units, done: 0, running: 0, failed: [], pending: 0 };
    for (let i = 0; i < (units ?? 0); i++) {
      if (await doneRecord(run, stage, i)) {
        status.done++;
        continue;
      }
      const { running, failed } = await readAttemptRecords(stageDir(run, stage), unitName(stage, i));
      if (running && mayBeRunning(running)) status.running++;
      else if (failed) status.failed.push(failed);
      else status.pending++;
    }
    stages.push(status);
  }
  return { run, committed, stages };
}

/** Formats a status for people: one line per stage, then every failed unit's error. */
export function formatStatus(status: BuildStatus): string {
  const lines = [`longmix build ${status.run.recipe.name} -> ${status.run.outDir} (work ${status.run.workDir})`];
  if (status.committed) return [...lines, 'committed: the build is complete and published.'].join('\n');
  for (const s of status.stages) {
    const total = s.units === null ? '? (after the plan)' : String(s.units);
    lines.push(`${s.stage.padEnd(7)} ${total.padStart(6)} units: ${s.done} done, ${s.running} running, ${s.failed.length} failed, ${s.pending} pending`);
  }
  const failed = status.stages.flatMap((s) => s.failed.map((f) => `  ${s.stage} ${f.unit} (${f.host} pid ${f.pid}, ${f.at}): ${f.error}`));
  if (failed.length) lines.push('failed units:', ...failed);
  return lines.join('\n');
}
