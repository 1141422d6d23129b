/**
 * The `longmix` command line (`pnpm pipeline <command>`):
 *
 * - `build-mix [--recipe FILE] [--out DIR] [--scale F] [--workers N] [--format hf,megatron]`: build shards and a manifest.
 * - `plan [--recipe FILE] [--scale F] [--workers N] [--lengths-out FILE]`: planned vs available tokens per cell; exit 1 if
 *   unmet; optionally the length census for `pnpm bench --lengths`.
 * - `verify DIR [--hf DIR] [--megatron PREFIX]`: check every shard and invariant against the manifest; exit 1 on the first violation.
 * - `inspect DIR [--row N]`: show a build's shards, or one row's pieces.
 * - `export DIR [--hf DIR] [--megatron PREFIX]`: write a build for other trainers and check it.
 * - `report DIR`: (re)write `DIR/report.html` for a finished build; build-mix writes it after every build.
 *
 * Errors print as one message naming file/line, key path, or shard/row, and exit with code 1.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { defaultOutDir, loadRecipe } from '../config/load.ts';
import { PipelineError } from '../core/errors.ts';
import { TOOL } from '../core/version.ts';
import { defaultWorkerCount } from '../tokenize/pool.ts';
import { planRecipe } from '../run/plan.ts';
import { inspectBuild } from './inspect.ts';
import { existsSync, rmSync, statSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { readManifest, writeManifest } from '../manifest/write.ts';
import { exportHf, exportMegatron, NNSCALER_FORMAT_COLUMNS, verifyExports } from '../export/index.ts';
import { positiveInt, positiveNumber, workerCount } from './args.ts';
import { runTask, taskSlotFrom } from '../run/task.ts';
import { buildStatus, formatStatus } from '../run/status.ts';
import { WORK_DIR_NAME } from '../run/outDir.ts';
import type { StageName } from '../run/stages.ts';
import { DEFAULT_RECIPE, registerBuildMix } from './buildCommand.ts';
import { formatEstimate, formatPlan } from './plan.ts';
import { estimateRecipe } from '../run/estimate.ts';
import { createProgress } from './progress.ts';
import { fmt, formatReportLine, formatSummary } from './summary.ts';
import { writeReport, type BuildTimings } from '../report/index.ts';
import { TIMINGS_FILE } from '../run/build.ts';
import { assertCensusTarget, lengthCensusOf, writeLengthCensus } from '../census/lengthCensus.ts';
import { ENVIRONMENT_HELP } from '../read/hub/options.ts';
import { recipePath, userPath } from './paths.ts';
import { runVerify } from './verifyCommand.ts';

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError(`expected a whole number >= 0, got "${value}"`);
  return Number(value);
}

// Output piped into a reader that stops early (`| head`) ends the command quietly.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' ? process.exit(0) : undefined));

const program = new Command('longmix')
  .description('Mixed context window long-context training data: budgets, packing, document masks, shards, manifests.')
  .version(TOOL.version);

registerBuildMix(program);

program
  .command('task')
  .description(
    'Run one task of a stage of a build prepared by build-mix (what each array job of --executor slurm runs; a Kubernetes indexed job or AWS Batch array can run it too): the units u with u mod count = index that are not done.',
  )
  .requiredOption('--work <dir>', 'work directory of the build (holds run.json)')
  .requiredOption('--stage <name>', 'group, census, census-control, plan, write or commit')
  .option('--index <i>', 'task index (default LONGMIX_TASK_INDEX, else SLURM_ARRAY_TASK_ID)', nonNegativeInt)
  .option('--count <n>', 'number of tasks of the stage (default LONGMIX_TASK_COUNT)', positiveInt)
  .option('--workers <n>', 'worker threads of this task', workerCount, defaultWorkerCount())
  .option(
    '--wave <k>',
    'census: run the units of census wave k (early stop under Slurm); census-control: check wave k and submit what comes next',
    nonNegativeInt,
  )
  .action(async (opts: { work: string; stage: string; index?: number; count?: number; workers: number; wave?: number }) => {
    const slot = taskSlotFrom(process.env, { index: opts.index, count: opts.count });
    const { ran, skipped, note } = await runTask(userPath(opts.work), opts.stage as StageName, slot, opts.workers, undefined, opts.wave);
    console.log(`longmix task: ${opts.stage} task ${slot.index} of ${slot.count}: ${ran} unit(s) run, ${skipped} already done${note ? `; ${note}` : ''}`);
  });

program
  .command('status')
  .description("Show a build's progress from its work directory's records: per stage, units done, running, failed (with their errors) and pending.")
  .argument('<out>', 'output directory of the build')
  .option('--work <dir>', 'work directory, when the build used --work')
  .action(async (out: string, opts: { work?: string }) => {
    console.log(formatStatus(await buildStatus(opts.work ? userPath(opts.work) : path.join(userPath(out), WORK_DIR_NAME))));
  });

program
  .command('plan')
  .description(
    'Take a length census of the sources (tokenizing every document) and print planned vs available tokens per source x bucket; exit 1 if a plan cannot be met. Writes nothing.',
  )
  .option('--recipe <file>', 'recipe YAML (source paths are relative to it)', DEFAULT_RECIPE)
  .option('--scale <factor>', "multiply every numeric budget (overrides the recipe's scale)", positiveNumber)
  .option('--workers <n>', 'tokenizer worker threads', workerCount, defaultWorkerCount())
  .option('--lengths-out <file>', 'also write the length census (every in-range document length per cell, JSON) for `pnpm bench --lengths`')
  .option(
    '--estimate',
    'read only a seeded sample of each source and project the whole build: yield per unit and per GB, units and bytes needed, whether the dataset holds enough, core-hours and disk',
  )
  .option('--sample-units <n>', 'with --estimate: census units (files) read per source', positiveInt, 4)
  .addHelpText('after', ENVIRONMENT_HELP)
  .action(async (opts: { recipe: string; scale?: number; workers: number; lengthsOut?: string; estimate?: boolean; sampleUnits: number }, command: Command) => {
    const loaded = await loadRecipe(recipePath(opts.recipe, command), { scale: opts.scale });
    if (opts.estimate) {
      const progress = createProgress();
      try {
        const estimate = await estimateRecipe(loaded, opts.workers, opts.sampleUnits, undefined, progress.update);
        progress.stop();
        console.log(formatEstimate(estimate, loaded.recipe.name, opts.sampleUnits));
        if (estimate.sources.some((s) => s.cells.some((c) => !c.enough))) process.exitCode = 1;
      } finally {
        progress.stop();
      }
      return;
    }
    if (opts.lengthsOut) opts.lengthsOut = userPath(opts.lengthsOut);
    if (opts.lengthsOut) assertCensusTarget(opts.lengthsOut);
    const progress = createProgress();
    try {
      const report = await planRecipe(loaded, opts.workers, undefined, progress.update);
      progress.stop();
      const { text, ok } = formatPlan(report, loaded.recipe.name);
      console.log(text);
      if (opts.lengthsOut) {
        await writeLengthCensus(opts.lengthsOut, lengthCensusOf(loaded, report));
        console.log(
          `length census: ${fmt(report.cells.reduce((s, c) => s + c.lengthTokens.length, 0))} document lengths in ${fmt(report.cells.length)} cells -> ${opts.lengthsOut}`,
        );
      }
      if (!ok) process.exitCode = 1;
    } finally {
      progress.stop();
    }
  });

program
  .command('verify')
  .description(
    'Re-read every shard; check checksums, row invariants, the schedule and totals against manifest.json, and that the exports (the given ones, else <dir>/hf and every prefix in <dir>/megatron) hold the same tokens; print OK only when all of it holds. An export that did not finish is named with the commands that write it again.',
  )
  .argument('<dir>', 'build output directory')
  .option('--hf <dir>', 'HF datasets export to check (default <dir>/hf when present)')
  .option('--megatron <prefix>', 'Megatron export prefix to check (default: every prefix in <dir>/megatron)')
  .action(async (dirArg: string, opts: { hf?: string; megatron?: string }) => {
    // Everything is checked before anything is printed: OK means the build and every export.
    const lines = await runVerify(userPath(dirArg), { hf: opts.hf && userPath(opts.hf), megatron: opts.megatron && userPath(opts.megatron) });
    for (const line of lines) console.log(line);
  });

program
  .command('export')
  .description(
    'Write a finished build for another trainer (hf: datasets save_to_disk directory; megatron: <prefix>.bin/.idx + <prefix>.doc_lens.npy, .doc_offsets.npy, .longmix.json), then check it token for token against the shards.',
  )
  .argument('<dir>', 'build output directory')
  .option('--hf <dir>', 'HF datasets directory to write (missing or empty)')
  .option(
    '--hf-columns <list>',
    "columns load_from_disk returns: 'nnscaler' (input_ids, position_ids, num_pad: what collators stack, padding maskable by count), 'all', or a comma list",
    'nnscaler',
  )
  .option('--megatron <prefix>', 'Megatron-LM indexed dataset prefix to write')
  .action(async (dirArg: string, opts: { hf?: string; hfColumns: string; megatron?: string }) => {
    const dir = userPath(dirArg);
    if (opts.hf) opts.hf = userPath(opts.hf);
    if (opts.megatron) opts.megatron = userPath(opts.megatron) + (opts.megatron.endsWith('/') ? '/' : '');
    if (!opts.hf && !opts.megatron) throw new PipelineError('export: give --hf <dir> and/or --megatron <prefix>');
    if (opts.hf && existsSync(opts.hf) && !statSync(opts.hf).isDirectory())
      throw new PipelineError(`export: --hf ${opts.hf} is a file; give a missing or empty directory`);
    if (opts.megatron && (opts.megatron.endsWith('/') || path.basename(opts.megatron) === ''))
      throw new PipelineError(`export: --megatron ${opts.megatron} must be a file prefix such as out/megatron/mix (it writes <prefix>.bin and <prefix>.idx)`);
    if (opts.megatron) await mkdir(path.dirname(opts.megatron), { recursive: true });
    const formatColumns = opts.hfColumns === 'all' ? null : opts.hfColumns === 'nnscaler' ? NNSCALER_FORMAT_COLUMNS : opts.hfColumns.split(',');
    if (opts.hf) {
      const r = await exportHf(dir, opts.hf, { formatColumns });
      console.log(`hf: ${fmt(r.files.length)} data files, ${fmt(r.rows)} rows -> ${r.dir}`);
    }
    if (opts.megatron) {
      const r = await exportMegatron(dir, opts.megatron);
      console.log(
        `megatron: ${fmt(r.sequences)} sequences, ${fmt(r.tokens)} tokens -> ${r.prefix}.{bin,idx} (${r.tokenDtype}), ${r.prefix}.{doc_lens.npy,doc_offsets.npy,longmix.json}`,
      );
    }
    const report = await verifyExports(dir, { hfDir: opts.hf, megatronPrefix: opts.megatron });
    console.log(`OK: ${fmt(report.rows)} rows match the shards token for token`);
  });

program
  .command('inspect')
  .description("Show a build's shards, or one row: window, pieces (source, document id, length, first/last tokens), padding.")
  .argument('<dir>', 'build output directory')
  .option('--row <n>', 'row id to show', nonNegativeInt)
  .action(async (dir: string, opts: { row?: number }) => {
    console.log(await inspectBuild(userPath(dir), opts.row));
  });

program
  .command('report')
  .description(
    'Write DIR/report.html for a finished build: one self-contained page (opens offline) of where every token went, the mix, document lengths, row fill, the schedule and the inputs, made from manifest.json and the shards. build-mix writes it after every build.',
  )
  .argument('<dir>', 'build output directory')
  .option(
    '--timings',
    "add the wall time of each stage of the build's last local run (from its work directory's timings.json): the page then differs from run to run",
  )
  .option('--work <dir>', 'work directory, when the build used --work')
  .action(async (dirArg: string, opts: { timings?: boolean; work?: string }) => {
    const dir = userPath(dirArg);
    let timings: BuildTimings | undefined;
    if (opts.timings) {
      const file = path.join(opts.work ? userPath(opts.work) : path.join(dir, WORK_DIR_NAME), TIMINGS_FILE);
      const text = await readFile(file, 'utf8').catch(() => {
        throw new PipelineError(`${file}: no timings; a local build-mix writes them into its work directory (a Slurm build does not)`, { file });
      });
      timings = JSON.parse(text) as BuildTimings;
    }
    console.log(formatReportLine(await writeReport(dir, await readManifest(dir), { timings })));
  });

/** A file-system error from Node (ENOENT, EACCES, ENOTDIR, …): the user's setup, not a bug. */
const isSystemError = (error: unknown): error is NodeJS.ErrnoException =>
  error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof PipelineError) console.error(`longmix: ${error.name}: ${error.message}`);
  else if (isSystemError(error)) console.error(`longmix: ${error.message}`);
  else console.error(error);
  process.exitCode = 1;
});
