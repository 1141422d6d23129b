/**
 * The `longmix` command line (`pnpm pipeline <command>`):
 *
 * - `build-mix [--recipe FILE] [--out DIR] [--scale F] [--workers N]`: build shards and a manifest.
 * - `plan [--recipe FILE] [--scale F] [--workers N]`: planned vs available tokens per cell; exit 1 if unmet.
 * - `verify DIR`: check every shard and invariant against the manifest; exit 1 on the first violation.
 * - `inspect DIR [--row N]`: show a build's shards, or one row's pieces.
 *
 * Errors print as one message naming file/line, key path, or shard/row, and exit with code 1.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { loadRecipe } from '../config/load.ts';
import { PipelineError } from '../core/errors.ts';
import { TOOL } from '../core/version.ts';
import { buildMix, removeTemporariesSync } from '../build/run.ts';
import { defaultWorkerCount } from '../tokenize/pool.ts';
import { verifyBuild } from '../verify/verify.ts';
import { planRecipe } from '../build/plan.ts';
import { inspectBuild } from './inspect.ts';
import { formatPlan } from './plan.ts';
import { createProgress } from './progress.ts';
import { formatSummary } from './summary.ts';

/** The embedded default recipe, `pipelines/sample.yaml`, as a path relative to the working directory. */
export const DEFAULT_RECIPE = path.relative(process.cwd(), fileURLToPath(new URL('../../pipelines/sample.yaml', import.meta.url)));

function positiveInt(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return Number(value);
}

/** Worker threads: 1 to 4 per core (each holds a tokenizer, about 60 MB). */
function workerCount(value: string): number {
  const n = positiveInt(value);
  const max = 4 * defaultWorkerCount();
  if (n > max) throw new InvalidArgumentError(`expected at most ${max} workers (4 per core on this machine), got ${n}`);
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a row number >= 0, got "${value}"`);
  return Number(value);
}

const program = new Command('longmix')
  .description('Mixed context window long-context training data: budgets, packing, document masks, shards, manifests.')
  .version(TOOL.version);

program
  .command('build-mix')
  .description('Read, tokenize, select, pack and write shards plus manifest.json for a recipe; prints a summary.')
  .option('--recipe <file>', 'recipe YAML (source paths are relative to it)', DEFAULT_RECIPE)
  .option('--out <dir>', "output directory (default: the recipe's output.dir)")
  .option('--scale <factor>', "multiply every numeric budget (overrides the recipe's scale)", positiveNumber)
  .option('--workers <n>', 'tokenizer worker threads', workerCount, defaultWorkerCount())
  .action(async (opts: { recipe: string; out?: string; scale?: number; workers: number }) => {
    const started = process.hrtime.bigint();
    const loaded = await loadRecipe(opts.recipe, { scale: opts.scale });
    const outDir = opts.out ?? loaded.recipe.output.dir;
    // Ctrl-C or a kill: remove the spill and unfinished shards; a previous build stays as it was.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        removeTemporariesSync(outDir);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      });
    }
    const progress = createProgress();
    try {
      const { manifest } = await buildMix({ loaded, outDir, workers: opts.workers, onProgress: progress.update });
      progress.stop();
      console.log(formatSummary(manifest, outDir, Number(process.hrtime.bigint() - started) / 1e9));
    } finally {
      progress.stop();
    }
  });

program
  .command('plan')
  .description('Take a length census of the sources (tokenizing every document) and print planned vs available tokens per source x bucket; exit 1 if a plan cannot be met. Writes nothing.')
  .option('--recipe <file>', 'recipe YAML (source paths are relative to it)', DEFAULT_RECIPE)
  .option('--scale <factor>', "multiply every numeric budget (overrides the recipe's scale)", positiveNumber)
  .option('--workers <n>', 'tokenizer worker threads', workerCount, defaultWorkerCount())
  .action(async (opts: { recipe: string; scale?: number; workers: number }) => {
    const loaded = await loadRecipe(opts.recipe, { scale: opts.scale });
    const progress = createProgress();
    try {
      const report = await planRecipe(loaded, opts.workers, undefined, progress.update);
      progress.stop();
      const { text, ok } = formatPlan(report, loaded.recipe.name);
      console.log(text);
      if (!ok) process.exitCode = 1;
    } finally {
      progress.stop();
    }
  });

program
  .command('verify')
  .description('Re-read every shard; check checksums, row invariants and totals against manifest.json.')
  .argument('<dir>', 'build output directory')
  .action(async (dir: string) => {
    const report = await verifyBuild(dir);
    console.log(`OK ${dir}: ${report.shards} shards, ${report.rows} rows, ${report.tokens} document tokens, ${report.padTokens} padding tokens; every invariant holds`);
  });

program
  .command('inspect')
  .description("Show a build's shards, or one row: window, pieces (source, document id, length, first/last tokens), padding.")
  .argument('<dir>', 'build output directory')
  .option('--row <n>', 'row id to show', nonNegativeInt)
  .action(async (dir: string, opts: { row?: number }) => {
    console.log(await inspectBuild(dir, opts.row));
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof PipelineError) console.error(`longmix: ${error.name}: ${error.message}`);
  else console.error(error);
  process.exitCode = 1;
});
