/**
 * `build-mix --executor slurm`: prepares the run (lists the inputs, writes the run record into the
 * work directory, which must be on a file system the cluster's nodes share, as must the output
 * directory and this checkout), then submits the stages as a chain of sbatch jobs (src/run/slurm.ts).
 */
import type { LoadedRecipe } from '../config/load.ts';
import { previousManifest, openOutDir, prepareOutDir } from '../run/outDir.ts';
import { prepareRun } from '../run/build.ts';
import { afterCensusJobs, slurmJobs, submitJobs, waitForCommit, waveUnitsPerSource, type SlurmOptions } from '../run/slurm.ts';
import { planWave, saveSlurmOptions } from '../run/waves.ts';
import { targetsOf } from '../run/earlyStop.ts';
import { openRun } from '../run/workDir.ts';
import { buildTokenizerSpec } from '../tokenize/registry.ts';
import { formatSummary } from './summary.ts';

/** What `build-mix --help` says about the Slurm executor. */
export const SLURM_HELP = `
Slurm: --executor slurm --tasks N submits the census and write stages as sbatch array jobs of N
tasks, and the plan and the commit as single jobs, chained with afterok dependencies. The work
directory (--work), the output directory and this checkout must be on a file system every node
sees. Rerun the same command after a cancelled or failed job: units already done are skipped.
\`pnpm pipeline status <out>\` shows each stage's units (done, running, failed with their errors).`;

/** The parts of build-mix's options the Slurm executor takes. */
export interface SlurmCommandOptions extends Omit<SlurmOptions, 'sbatchArgs'> {
  format: string[];
  restart?: boolean;
  wait?: boolean;
  dryRun?: boolean;
  tasks: number;
  cpusPerTask?: number;
  sbatchArg: string[];
}

/**
 * Prepares and submits the build (see the file header); with `wait`, waits for the commit.
 * @throws PipelineError when the output or work directory is not usable, sbatch refuses a job,
 *   or (with `wait`) the chain ends without a commit.
 */
export async function buildOnSlurm(loaded: LoadedRecipe, outDir: string, workDir: string, opts: SlurmCommandOptions, started: bigint): Promise<void> {
  const spec = await buildTokenizerSpec(loaded.recipe.tokenizer);
  const run = await prepareRun({ loaded, outDir, workDir, workers: 1, formats: opts.format }, spec);
  const options: SlurmOptions = {
    tasks: opts.tasks,
    partition: opts.partition,
    cpusPerTask: opts.cpusPerTask,
    mem: opts.mem,
    time: opts.time,
    sbatchArgs: opts.sbatchArg,
  };
  if (opts.dryRun) {
    const firstWave = run.recipe.sources.reduce((n, s) => {
      const units = run.census.filter((u) => u.source === s.name).length;
      return n + (targetsOf(run, s.name) === null ? units : Math.min(units, waveUnitsPerSource(options.tasks, run.recipe.sources.length)));
    }, 0);
    const jobs = [...slurmJobs(run, options, firstWave), ...afterCensusJobs(run, options)];
    for (const job of jobs) console.log(`# ---- ${job.label} (${job.array === null ? 'one job' : `array of ${job.array} tasks`})\n${job.script}`);
    console.log(
      `# nothing was submitted (--dry-run). Each job runs after the previous one ends well (afterok, --kill-on-invalid-dep=yes; a wave's controller afterany); the controller of census wave k submits wave k+1 (${firstWave} units in the first, the next ones for the sources whose budgets are not met yet) or, once every source's read prefix is known, the plan, write and commit jobs. The run has ${run.census.length} census units over ${run.inputs.length} input files.`,
    );
    return;
  }
  const lock = await openOutDir(run.outDir);
  let state;
  try {
    await prepareOutDir(run.outDir, run.formats, run.runId);
    state = await openRun(run, opts.restart ?? false);
  } finally {
    lock.release();
  }
  if (state === 'done') {
    console.log(
      `longmix build-mix: ${outDir} already holds this build (same recipe, tokenizer, inputs and formats); nothing to do. Add --restart to build it again.`,
    );
    return;
  }
  await saveSlurmOptions(run, options);
  const wave = await planWave(run, options.tasks, 0);
  const jobs = wave.length
    ? slurmJobs(run, options, wave.length)
    : [...(run.group.length ? slurmJobs(run, options, 0).slice(0, 1) : []), ...afterCensusJobs(run, options)];
  const ids = await submitJobs(run, jobs);
  console.log(
    `longmix build-mix: submitted ${jobs.map((j, i) => `${j.label} ${ids[i]}${j.array === null ? '' : ` (${j.array} tasks)`}`).join(', ')}; logs in ${workDir}/logs`,
  );
  console.log(`progress: pnpm pipeline status ${outDir}${workDir.startsWith(outDir) ? '' : ` --work ${workDir}`}`);
  if (!opts.wait) return;
  await waitForCommit(run);
  console.log(formatSummary((await previousManifest(run.outDir))!, outDir, Number(process.hrtime.bigint() - started) / 1e9));
}
