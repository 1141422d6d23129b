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

/** One job of the chain: its stage, label (job name suffix, script and log name), the script's text. */
export interface SlurmJob {
  stage: StageName;
  label: string;
  script: string;
  /** Array tasks (census, write) or null (plan, commit). */
  array: number | null;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Quotes a word for bash. */
const q = (s: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/** Job name prefix of a run's jobs: `longmix-<first 8 hex digits of the run id>-`. */
export const jobPrefix = (runRecord: RunRecord) => `longmix-${runRecord.runId.slice(0, 8)}-`;

/**
 * One sbatch script running `longmix task` with this machine's Node.js and tsx from this checkout
 * (the cluster's nodes must see the same paths, as they must see the work directory).
 * @param label - the job's name after the run prefix (and its log file's).
 * @param args - the task's arguments after `--work` and `--stage`.
 */
function script(
  runRecord: RunRecord,
  options: SlurmOptions,
  stage: StageName | 'census-control',
  label: string,
  array: number | null,
  args: string[] = [],
): SlurmJob {
  const work = runRecord.workDir;
  const tsx = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
  const main = path.join(ROOT, 'src', 'cli', 'main.ts');
  const cpus = stage === 'census-control' ? 1 : (options.cpusPerTask ?? 1);
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=${q(`${jobPrefix(runRecord)}${label}`)}`,
    `#SBATCH --output=${q(path.join(work, 'logs', `${label}-%${array === null ? 'j' : 'A_%a'}.log`))}`,
    '#SBATCH --open-mode=append',
    `#SBATCH --cpus-per-task=${cpus}`,
    ...(array === null ? [] : [`#SBATCH --array=0-${array - 1}`]),
    ...(options.partition ? [`#SBATCH --partition=${q(options.partition)}`] : []),
    ...(options.mem ? [`#SBATCH --mem=${q(options.mem)}`] : []),
    ...(options.time ? [`#SBATCH --time=${q(options.time)}`] : []),
    ...options.sbatchArgs.map((a) => `#SBATCH ${q(a)}`),
    'set -euo pipefail',
    `cd ${q(ROOT)}`,
    `exec ${q(process.execPath)} --import ${q(tsx)} ${q(main)} task --work ${q(work)} --stage ${stage} --count ${array ?? 1} --index "\${SLURM_ARRAY_TASK_ID:-0}" --workers ${cpus}${args.map((a) => ` ${q(a)}`).join('')}`,
    '',
  ];
  return { stage: stage as StageName, label, script: lines.join('\n'), array };
}

/** The jobs after the census: plan, write (an array of `tasks`), commit. */
export function afterCensusJobs(runRecord: RunRecord, options: SlurmOptions): SlurmJob[] {
  return [
    script(runRecord, options, 'plan', 'plan', null),
    script(runRecord, options, 'write', 'write', options.tasks),
    script(runRecord, options, 'commit', 'commit', null),
  ];
}

/**
 * Census units per source in one wave of early stop: the tasks shared over the sources still
 * reading (at least 1 each), so that at most one wave is read past each source's prefix.
 */
export function waveUnitsPerSource(tasks: number, readingSources: number): number {
  return Math.max(1, Math.floor(tasks / Math.max(1, readingSources)));
}

/**
 * The census jobs of a wave: an array running the wave's units (listed in
 * `<work>/slurm/census-wave-<k>.json`, task i running units i, i + n, …), then a one-CPU
 * controller that, from the records, submits the next wave or, once every source's prefix is
 * known, the jobs after the census.
 */
export function waveJobs(runRecord: RunRecord, options: SlurmOptions, wave: number, units: number): SlurmJob[] {
  const tasks = Math.max(1, Math.min(options.tasks, units));
  return [
    script(runRecord, options, 'census', `census-w${wave}`, tasks, ['--wave', String(wave)]),
    script(runRecord, options, 'census-control', `census-control-w${wave}`, null, ['--wave', String(wave)]),
  ];
}

/**
 * The sbatch scripts a submission starts with: the group array (StarCoder repositories, if any),
 * then the census's first wave and its controller (which submits the rest).
 */
export function slurmJobs(runRecord: RunRecord, options: SlurmOptions, firstWaveUnits: number): SlurmJob[] {
  const group = runRecord.group.length ? [script(runRecord, options, 'group', 'group', Math.min(options.tasks, runRecord.group.length))] : [];
  return [...group, ...waveJobs(runRecord, options, 0, firstWaveUnits)];
}

/**
 * Submits jobs as a chain (each after the previous one ends well: `afterok`, with
 * `--kill-on-invalid-dep=yes`; a controller runs `afterany` its wave, so that it can report a
 * failed unit), the first after `after` when given; returns their ids in order.
 * @throws PipelineError naming the job when sbatch fails (with its message).
 */
export async function submitJobs(runRecord: RunRecord, jobs: readonly SlurmJob[], after?: string): Promise<string[]> {
  const dir = path.join(runRecord.workDir, 'slurm');
  await mkdir(dir, { recursive: true });
  await mkdir(path.join(runRecord.workDir, 'logs'), { recursive: true });
  const ids: string[] = [];
  for (const job of jobs) {
    const file = path.join(dir, `${job.label}.sbatch`);
    await writeFile(file, job.script, { mode: 0o755 });
    const previous = ids.length ? ids[ids.length - 1] : after;
    const kind = job.label.startsWith('census-control') ? 'afterany' : 'afterok';
    const dependency = previous ? ['--dependency', `${kind}:${previous}`, '--kill-on-invalid-dep=yes'] : [];
    try {
      const { stdout } = await run('sbatch', ['--parsable', ...dependency, file]);
      ids.push(stdout.trim().split(';')[0]);
    } catch (error) {
      const e = error as { stderr?: string; message: string; code?: string };
      const why = e.code === 'ENOENT' ? 'sbatch is not installed or not on PATH' : (e.stderr || e.message).trim();
      throw new PipelineError(
        `sbatch refused the ${job.label} job: ${why}${ids.length ? ` (jobs ${ids.join(', ')} were submitted; scancel them or let them fail)` : ''}`,
        { stage: job.stage },
      );
    }
  }
  return ids;
}

/** The jobs of a run Slurm still has pending or running (array tasks included), by their name prefix. */
async function queued(runRecord: RunRecord): Promise<string[]> {
  const { stdout } = await run('squeue', ['-h', '-o', '%i %j %T']).catch(() => ({ stdout: '' }));
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(
      ([id, name, state]) =>
        id &&
        name?.startsWith(jobPrefix(runRecord)) &&
        !/^(COMPLETED|CANCELLED|FAILED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL|BOOT_FAIL|DEADLINE|PREEMPTED)$/.test(state ?? ''),
    )
    .map(([id]) => id);
}

/**
 * Waits until the run is committed, or the chain has left the queue without committing.
 * @param onTick - called every poll with the status text (for a progress line).
 * @throws PipelineError with the build's status (failed units and their errors) when the chain ended without a commit.
 */
export async function waitForCommit(runRecord: RunRecord, pollMs = 2000, onTick?: (status: string) => void): Promise<void> {
  for (;;) {
    if (await isCommitted(runRecord)) return;
    const left = await queued(runRecord);
    if (left.length === 0) {
      // One last look: the commit may have finished between the two checks.
      if (await isCommitted(runRecord)) return;
      const status = formatStatus(await buildStatus(runRecord.workDir));
      throw new PipelineError(
        `the Slurm jobs of this build (named ${jobPrefix(runRecord)}…) ended without committing it:\n${status}\nFix what failed and run the same command again: units already done are not redone.`,
      );
    }
    onTick?.(`${left.length} job(s) queued or running`);
    await sleep(pollMs);
  }
}
