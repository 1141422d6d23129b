/**
 * `build-mix`: builds a recipe into an output directory, on this machine (`--executor local`, the
 * default) or on a Slurm cluster (`--executor slurm`), resumably: rerunning the same command after
 * a crash, a kill or a cancelled job finishes the build, redoing only unfinished units.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { defaultOutDir, loadRecipe } from '../config/load.ts';
import { buildMix } from '../run/build.ts';
import { openOutDir, removeTemporariesSync, WORK_DIR_NAME } from '../run/outDir.ts';
import { defaultWorkerCount } from '../tokenize/pool.ts';
import { formatList, positiveInt, positiveNumber, workerCount } from './args.ts';
import { buildOnSlurm, SLURM_HELP } from './slurmCommand.ts';
import { ENVIRONMENT_HELP } from '../read/hub/options.ts';
import { recipePath, userPath } from './paths.ts';
import { createProgress } from './progress.ts';
import { formatSummary } from './summary.ts';

/** The embedded default recipe, `pipelines/sample.yaml`, as a path relative to the working directory. */
export const DEFAULT_RECIPE = path.relative(process.cwd(), fileURLToPath(new URL('../../pipelines/sample.yaml', import.meta.url)));

/** Options of `build-mix` as commander parses them. */
interface BuildMixOptions {
  recipe: string;
  out?: string;
  work?: string;
  scale?: number;
  workers: number;
  format: string[];
  restart?: boolean;
  executor: 'local' | 'slurm';
  tasks: number;
  partition?: string;
  cpusPerTask?: number;
  mem?: string;
  time?: string;
  sbatchArg: string[];
  wait?: boolean;
  dryRun?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function executorName(value: string): 'local' | 'slurm' {
  if (value !== 'local' && value !== 'slurm') throw new InvalidArgumentError(`expected local or slurm, got "${value}"`);
  return value;
}

/** Registers `build-mix` on `program`. */
export function registerBuildMix(program: Command): void {
  program
    .command('build-mix')
    .description(
      'Read, tokenize, select, pack and write shards plus manifest.json for a recipe; prints a summary. Resumable: rerun the same command after any interruption.',
    )
    .option('--recipe <file>', 'recipe YAML (source paths are relative to it)', DEFAULT_RECIPE)
    .option('--out <dir>', "output directory: new, empty, or one a longmix build wrote (default: the recipe's output.dir, else out/<recipe name>)")
    .option('--work <dir>', `work directory for unit outputs and records (default <out>/${WORK_DIR_NAME}; on a cluster, a shared file system)`)
    .option('--scale <factor>', "multiply every numeric budget (overrides the recipe's scale)", positiveNumber)
    .option('--workers <n>', 'worker threads running units (reading, tokenizing, writing)', workerCount, defaultWorkerCount())
    .option(
      '--format <list>',
      'comma list of output formats besides the native shards: hf (<out>/hf, datasets save_to_disk, columns nnScaler reads), megatron (<out>/megatron/<recipe>.bin/.idx)',
      formatList,
      [],
    )
    .option('--restart', 'discard the work of an unfinished build in the work directory and start over')
    .option('--executor <name>', 'where the stages run: local (this machine, --workers threads) or slurm (sbatch array jobs)', executorName, 'local')
    .option('--tasks <n>', 'slurm: array tasks of each map stage (census, write)', positiveInt, 4)
    .option('--partition <name>', 'slurm: partition of every job')
    .option('--cpus-per-task <n>', 'slurm: CPUs per task, each running one worker thread (default 1)', positiveInt)
    .option('--mem <size>', 'slurm: memory per task (sbatch syntax: 4G, 4000M)')
    .option('--time <limit>', 'slurm: time limit per job (sbatch syntax: 2:00:00)')
    .option('--sbatch-arg <arg>', 'slurm: another sbatch option for every job, as is (repeatable: --sbatch-arg=--qos=long)', collect, [])
    .option('--wait', "slurm: wait until the build is committed; the exit status is the build's")
    .option('--dry-run', 'slurm: print the sbatch scripts and submit nothing')
    .addHelpText('after', SLURM_HELP + ENVIRONMENT_HELP)
    .action(async (opts: BuildMixOptions, command: Command) => {
      const started = process.hrtime.bigint();
      const loaded = await loadRecipe(recipePath(opts.recipe, command), { scale: opts.scale });
      const outDir = userPath(opts.out ?? defaultOutDir(loaded.recipe));
      const workDir = opts.work ? userPath(opts.work) : path.join(outDir, WORK_DIR_NAME);
      if (opts.executor === 'slurm') {
        await buildOnSlurm(loaded, outDir, workDir, opts, started);
        return;
      }
      // One build per output directory.
      const lock = await openOutDir(outDir);
      const progress = createProgress();
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
          progress.stop();
          removeTemporariesSync(outDir);
          lock.release();
          console.error(
            `\nlongmix: interrupted (${signal}); the work done so far is kept in ${workDir}: run the same command again to resume. A previous build in ${outDir} is unchanged.`,
          );
          process.exit(signal === 'SIGINT' ? 130 : 143);
        });
      }
      try {
        const result = await buildMix({
          loaded,
          outDir,
          workDir,
          workers: opts.workers,
          formats: opts.format,
          restart: opts.restart,
          onProgress: progress.update,
          lock,
        });
        progress.stop();
        if (result.state === 'done') {
          console.log(
            `longmix build-mix: ${outDir} already holds this build (same recipe, tokenizer, inputs and formats); nothing to do. Add --restart to build it again.`,
          );
          return;
        }
        console.log(formatSummary(result.manifest, outDir, Number(process.hrtime.bigint() - started) / 1e9));
        console.log(
          `stages    ${result.timings.map((t) => `${t.phase} ${t.seconds.toFixed(1)} s`).join(', ')}${result.state === 'resume' ? ' (resumed: units done before were not redone)' : ''}`,
        );
        console.log(`report    ${path.join(outDir, result.manifest.report ?? 'report.html')}: open it in a browser`);
        const exported = result.manifest.exports ?? {};
        if (exported.hf) console.log(`hf        ${path.join(outDir, exported.hf)} (datasets save_to_disk layout)`);
        if (exported.megatron)
          console.log(
            `megatron  ${path.join(outDir, exported.megatron, result.manifest.recipe.name)}.{bin,idx} (+ .doc_lens.npy, .doc_offsets.npy, .longmix.json)`,
          );
      } finally {
        progress.stop();
        lock.release();
      }
    });
}
