/**
 * The `longmix` command line (`pnpm pipeline <command>`):
 *
 * - `build-mix [--recipe FILE] [--out DIR] [--scale F] [--workers N] [--format hf,megatron]`: build shards and a manifest.
 * - `plan [--recipe FILE] [--scale F] [--workers N] [--lengths-out FILE]`: planned vs available tokens per cell; exit 1 if
 *   unmet; optionally the length census for `pnpm bench --lengths`.
 * - `verify DIR [--hf DIR] [--megatron PREFIX]`: check every shard and invariant against the manifest; exit 1 on the first violation.
 * - `inspect DIR [--row N]`: show a build's shards, or one row's pieces.
 * - `export DIR [--hf DIR] [--megatron PREFIX]`: write a build for other trainers and check it.
 *
 * Errors print as one message naming file/line, key path, or shard/row, and exit with code 1.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { defaultOutDir, loadRecipe } from '../config/load.ts';
import { PipelineError } from '../core/errors.ts';
import { TOOL } from '../core/version.ts';
import { buildFilesOf, buildMix, openOutDir, prepareOutDir, removeTemporariesSync } from '../run/build.ts';
import { defaultWorkerCount } from '../tokenize/pool.ts';
import { verifyBuild } from '../verify/verify.ts';
import { planRecipe } from '../run/plan.ts';
import { inspectBuild } from './inspect.ts';
import { existsSync, rmSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { readManifest, writeManifest } from '../manifest/write.ts';
import { exportHf, exportMegatron, NNSCALER_FORMAT_COLUMNS, verifyExports } from '../export/index.ts';
import { positiveInt, positiveNumber } from './args.ts';
import { formatPlan } from './plan.ts';
import { createProgress } from './progress.ts';
import { fmt, formatSummary } from './summary.ts';
import { assertCensusTarget, lengthCensusOf, writeLengthCensus } from '../census/lengthCensus.ts';

/** The embedded default recipe, `pipelines/sample.yaml`, as a path relative to the working directory. */
export const DEFAULT_RECIPE = path.relative(process.cwd(), fileURLToPath(new URL('../../pipelines/sample.yaml', import.meta.url)));

/** Worker threads: 1 to 4 per core (each holds a tokenizer, about 60 MB). */
function workerCount(value: string): number {
  const n = positiveInt(value);
  const max = 4 * defaultWorkerCount();
  if (n > max) throw new InvalidArgumentError(`expected at most ${max} workers (4 per core on this machine), got ${n}`);
  return n;
}

const FORMATS = ['native', 'hf', 'megatron'];

function formatList(value: string): string[] {
  const formats = value
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  for (const f of formats) if (!FORMATS.includes(f)) throw new InvalidArgumentError(`expected formats among ${FORMATS.join(', ')}, got "${f}"`);
  return formats.filter((f) => f !== 'native');
}

/** Writes the requested exports of a fresh build into `<outDir>/hf` and `<outDir>/megatron/<name>`; returns summary lines. */
async function writeExports(outDir: string, name: string, formats: readonly string[]): Promise<string[]> {
  const lines: string[] = [];
  const hfDir = formats.includes('hf') ? path.join(outDir, 'hf') : undefined;
  const megatronPrefix = formats.includes('megatron') ? path.join(outDir, 'megatron', name) : undefined;
  if (hfDir) {
    const r = await exportHf(outDir, hfDir, { formatColumns: NNSCALER_FORMAT_COLUMNS });
    lines.push(`hf        ${fmt(r.files.length)} data files (datasets save_to_disk layout) in ${hfDir}`);
  }
  if (megatronPrefix) {
    await mkdir(path.dirname(megatronPrefix), { recursive: true });
    const r = await exportMegatron(outDir, megatronPrefix);
    lines.push(
      `megatron  ${fmt(r.sequences)} sequences, ${fmt(r.tokens)} tokens in ${megatronPrefix}.{bin,idx} (${r.tokenDtype}; + .doc_lens.npy, .doc_offsets.npy, .longmix.json)`,
    );
  }
  if (hfDir || megatronPrefix) await verifyExports(outDir, { hfDir, megatronPrefix });
  return lines;
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError(`expected a row number >= 0, got "${value}"`);
  return Number(value);
}

const program = new Command('longmix')
  .description('Mixed context window long-context training data: budgets, packing, document masks, shards, manifests.')
  .version(TOOL.version);

program
  .command('build-mix')
  .description('Read, tokenize, select, pack and write shards plus manifest.json for a recipe; prints a summary.')
  .option('--recipe <file>', 'recipe YAML (source paths are relative to it)', DEFAULT_RECIPE)
  .option('--out <dir>', "output directory: new, empty, or one a longmix build wrote (default: the recipe's output.dir, else out/<recipe name>)")
  .option('--scale <factor>', "multiply every numeric budget (overrides the recipe's scale)", positiveNumber)
  .option('--workers <n>', 'tokenizer worker threads', workerCount, defaultWorkerCount())
  .option(
    '--format <list>',
    'comma list of output formats besides the native shards: hf (<out>/hf, datasets save_to_disk, columns nnScaler reads), megatron (<out>/megatron/<recipe>.bin/.idx)',
    formatList,
    [],
  )
  .action(async (opts: { recipe: string; out?: string; scale?: number; workers: number; format: string[] }) => {
    const started = process.hrtime.bigint();
    const loaded = await loadRecipe(opts.recipe, { scale: opts.scale });
    const outDir = opts.out ?? defaultOutDir(loaded.recipe);
    // One build per output directory, held through the exports too.
    const lock = await openOutDir(outDir);
    // Ctrl-C or a kill: remove the spill and unfinished shards (a previous build stays as it was),
    // and any export being written (an export is all or nothing); then drop the lock.
    let exporting = false;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        removeTemporariesSync(outDir);
        if (exporting) for (const name of opts.format) rmSync(path.join(outDir, name), { recursive: true, force: true });
        lock.release();
        console.error(
          `\nlongmix: interrupted; ${exporting ? 'the new build is complete, its exports were removed' : 'no new build was committed; a previous build in the directory is unchanged'}`,
        );
        process.exit(signal === 'SIGINT' ? 130 : 143);
      });
    }
    const progress = createProgress();
    try {
      // An export directory already there must be one the previous build's manifest lists: a
      // user's own hf/ or megatron/ is never replaced.
      const previous = await prepareOutDir(outDir);
      const listed = previous ? buildFilesOf(previous).exportDirs : [];
      for (const name of opts.format) {
        if (existsSync(path.join(outDir, name)) && !listed.includes(name)) {
          throw new PipelineError(
            `${path.join(outDir, name)} exists and is not an export of the longmix build in ${outDir}; move it away or choose another --out`,
            { outDir },
          );
        }
      }
      const { manifest } = await buildMix({ loaded, outDir, workers: opts.workers, onProgress: progress.update, lock });
      progress.stop();
      exporting = true;
      const exported = await writeExports(outDir, manifest.recipe.name, opts.format).catch(async (error: unknown) => {
        for (const name of opts.format) await rm(path.join(outDir, name), { recursive: true, force: true });
        throw error;
      });
      if (opts.format.length) {
        manifest.exports = Object.fromEntries(opts.format.map((name) => [name, name]));
        await writeManifest(outDir, manifest);
      }
      exporting = false;
      console.log(formatSummary(manifest, outDir, Number(process.hrtime.bigint() - started) / 1e9));
      for (const line of exported) console.log(line);
    } finally {
      progress.stop();
      lock.release();
    }
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
  .action(async (opts: { recipe: string; scale?: number; workers: number; lengthsOut?: string }) => {
    const loaded = await loadRecipe(opts.recipe, { scale: opts.scale });
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
    'Re-read every shard; check checksums, row invariants, the schedule and totals against manifest.json, and that hf/megatron exports (in <dir>/hf and <dir>/megatron, or given) hold the same tokens.',
  )
  .argument('<dir>', 'build output directory')
  .option('--hf <dir>', 'HF datasets export to check (default <dir>/hf when present)')
  .option('--megatron <prefix>', 'Megatron export prefix to check (default <dir>/megatron/<recipe> when present)')
  .action(async (dir: string, opts: { hf?: string; megatron?: string }) => {
    // Read (and lock-checked) once, before anything is printed.
    const manifest = await readManifest(dir);
    const report = await verifyBuild(dir);
    console.log(
      `OK ${dir}: ${fmt(report.shards)} shards, ${fmt(report.rows)} rows, ${fmt(report.tokens)} document tokens, ${fmt(report.padTokens)} padding tokens; every invariant holds`,
    );
    const defaultPrefix = path.join(dir, 'megatron', manifest.recipe.name);
    // An export directory beside the build must be complete: a half-written one is an error, not skipped.
    if (!opts.hf && existsSync(path.join(dir, 'hf')) && !existsSync(path.join(dir, 'hf', 'state.json')))
      throw new PipelineError(`${path.join(dir, 'hf')}: incomplete HF export (no state.json); remove it or run export again`);
    if (!opts.megatron && existsSync(path.join(dir, 'megatron')) && !existsSync(`${defaultPrefix}.idx`))
      throw new PipelineError(
        `${path.join(dir, 'megatron')}: incomplete Megatron export (no ${path.basename(defaultPrefix)}.idx); remove it or run export again`,
      );
    const hfDir = opts.hf ?? (existsSync(path.join(dir, 'hf', 'state.json')) ? path.join(dir, 'hf') : undefined);
    const megatronPrefix = opts.megatron ?? (existsSync(`${defaultPrefix}.idx`) ? defaultPrefix : undefined);
    if (hfDir || megatronPrefix) {
      const exports = await verifyExports(dir, { hfDir, megatronPrefix });
      console.log(
        `OK exports: ${[hfDir && `hf ${hfDir}`, megatronPrefix && `megatron ${megatronPrefix}`].filter(Boolean).join(', ')} hold the same ${fmt(exports.rows)} rows token for token`,
      );
    }
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
  .action(async (dir: string, opts: { hf?: string; hfColumns: string; megatron?: string }) => {
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
    console.log(await inspectBuild(dir, opts.row));
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
