/**
 * The Slurm executor: each map stage (group when a StarCoder source groups repositories, census,
 * write) is an `sbatch --array` job of `tasks` tasks,
 * the plan and the commit single jobs, chained with `--dependency=afterok:<job>` and
 * `--kill-on-invalid-dep=yes` (so a failed or cancelled task ends the chain instead of leaving it
 * pending forever). Every task runs `longmix task` (./task.ts) on the shared work directory; a
 * task takes its index from `SLURM_ARRAY_TASK_ID` and the task count from the script (Slurm's own
 * count is that of the current submission only). Rerunning the same `build-mix --executor slurm`
 * command after a cancel or a failure submits the chain again; tasks skip units already done.
 *
 * Logs go to `<work>/logs/<stage>-<job>_<task>.log` (append mode, so a requeued task keeps its
 * first attempt's log). With `wait`, the submitting process polls the work directory's records
 * every 2 s until the commit is done (exit 0) or no job of the chain is left in the queue
 * without a commit (exit 1, with each failed unit's error): Slurm's job states only say whether
 * anything may still run; the records say what was done.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PipelineError } from '../core/errors.ts';
import type { RunRecord } from './runRecord.ts';
import type { StageName } from './stages.ts';
import { buildStatus, formatStatus } from './status.ts';
import { isCommitted } from './workDir.ts';

const run = promisify(execFile);

/** How the stages are submitted. */
export interface SlurmOptions {
  /** Array tasks of each map stage (census, write), >= 1. */
  tasks: number;
  partition?: string;
  /** CPUs per task; each task runs that many worker threads. Default 1. */
  cpusPerTask?: number;
  /** Memory per task, in sbatch's syntax (`4G`, `4000M`). */
  mem?: string;
  /** Time limit per job, in sbatch's syntax (`2:00:00`). */
  time?: string;
  /** Further sbatch options, passed as they are (`--qos=long`, `--account=x`). */
  sbatchArgs: string[];
}

/** One job of the chain: its stage, the script's text and, once submitted, its job id. */
export interface SlurmJob {
  stage: StageName;
  script: string;
  /** Array tasks (census, write) or null (plan, commit). */
  array: number | null;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Quotes a word for bash. */
const q = (s: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/**
 * The sbatch scripts of a run, in submission order. Each runs `longmix task` with this machine's
 * Node.js and tsx from this checkout (the cluster's nodes must see the same paths, as they must
 * see the work directory).
 */
export function slurmJobs(runRecord: RunRecord, options: SlurmOptions): SlurmJob[] {
  const work = runRecord.workDir;
  const node = process.execPath;
  const tsx = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
  const main = path.join(ROOT, 'src', 'cli', 'main.ts');
  const cpus = options.cpusPerTask ?? 1;
  const name = `longmix-${runRecord.recipe.name}`;
  const script = (stage: StageName, array: number | null): SlurmJob => {
    const lines = [
      '#!/bin/bash',
      `#SBATCH --job-name=${q(`${name}-${stage}`)}`,
      `#SBATCH --output=${q(path.join(work, 'logs', `${stage}-%${array === null ? 'j' : 'A_%a'}.log`))}`,
      '#SBATCH --open-mode=append',
      `#SBATCH --cpus-per-task=${cpus}`,
      ...(array === null ? [] : [`#SBATCH --array=0-${array - 1}`]),
      ...(options.partition ? [`#SBATCH --partition=${q(options.partition)}`] : []),
      ...(options.mem ? [`#SBATCH --mem=${q(options.mem)}`] : []),
      ...(options.time ? [`#SBATCH --time=${q(options.time)}`] : []),
      ...options.sbatchArgs.map((a) => `#SBATCH ${q(a)}`),
      'set -euo pipefail',
      `cd ${q(ROOT)}`,
      `exec ${q(node)} --import ${q(tsx)} ${q(main)} task --work ${q(work)} --stage ${stage} --count ${array ?? 1} --index "\${SLURM_ARRAY_TASK_ID:-0}" --workers ${cpus}`,
      '',
    ];
    return { stage, script: lines.join('\n'), array };
  };
  const census = Math.max(1, Math.min(options.tasks, runRecord.census.length));
  const group = runRecord.group.length ? [script('group', Math.min(options.tasks, runRecord.group.length))] : [];
  return [...group, script('census', census), script('plan', null), script('write', options.tasks), script('commit', null)];
}

/**
 * Submits the chain of jobs; returns their ids in order.
 * @throws PipelineError naming the stage when sbatch fails (with its message).
 */
export async function submitJobs(runRecord: RunRecord, jobs: readonly SlurmJob[]): Promise<string[]> {
  const dir = path.join(runRecord.workDir, 'slurm');
  await mkdir(dir, { recursive: true });
  await mkdir(path.join(runRecord.workDir, 'logs'), { recursive: true });
  const ids: string[] = [];
  for (const job of jobs) {
    const file = path.join(dir, `${job.stage}.sbatch`);
    await writeFile(file, job.script, { mode: 0o755 });
    const dependency = ids.length ? ['--dependency', `afterok:${ids[ids.length - 1]}`, '--kill-on-invalid-dep=yes'] : [];
    try {
      const { stdout } = await run('sbatch', ['--parsable', ...dependency, file]);
      ids.push(stdout.trim().split(';')[0]);
    } catch (error) {
      const e = error as { stderr?: string; message: string; code?: string };
      const why = e.code === 'ENOENT' ? 'sbatch is not installed or not on PATH' : (e.stderr || e.message).trim();
      throw new PipelineError(
        `sbatch refused the ${job.stage} job: ${why}${ids.length ? ` (jobs ${ids.join(', ')} were submitted; scancel them or let them fail)` : ''}`,
        { stage: job.stage },
      );
    }
  }
  return ids;
}

/** The ids among `ids` that Slurm still has pending or running (array tasks included). */
async function queued(ids: readonly string[]): Promise<string[]> {
  const { stdout } = await run('squeue', ['-h', '-o', '%i %T', '-j', ids.join(',')]).catch(() => ({ stdout: '' }));
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/ (COMPLETED|CANCELLED|FAILED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL|BOOT_FAIL|DEADLINE|PREEMPTED)$/.test(l));
}

/**
 * Waits until the run is committed, or the chain has left the queue without committing.
 * @param onTick - called every poll with the status text (for a progress line).
 * @throws PipelineError with the build's status (failed units and their errors) when the chain ended without a commit.
 */
export async function waitForCommit(runRecord: RunRecord, ids: readonly string[], pollMs = 2000, onTick?: (status: string) => void): Promise<void> {
  for (;;) {
    if (await isCommitted(runRecord)) return;
    const left = await queued(ids);
    if (left.length === 0) {
      // One last look: the commit may have finished between the two checks.
      if (await isCommitted(runRecord)) return;
      const status = formatStatus(await buildStatus(runRecord.workDir));
      throw new PipelineError(
        `the Slurm jobs ${ids.join(', ')} ended without committing the build:\n${status}\nFix what failed and run the same command again: units already done are not redone.`,
      );
    }
    onTick?.(`${left.length} job(s) queued or running`);
    await sleep(pollMs);
  }
}
