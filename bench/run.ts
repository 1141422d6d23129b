/**
 * `pnpm bench [--recipe FILE] [--workers N] [--repeat K] [--lengths CENSUS] [--packing-only] [--tokenizer]`
 * (`--plan`: only the plan's memory on a synthetic census of `--plan-docs` in-cell documents,
 * bench/planRss.ts; `--build`, `--scale`: only those benches):
 * tokenizer comparisons (bench/tokenizer.ts: ours against native tiktoken on adversarial documents,
 * tokens/s per thread with and without the piece cache; `--tokenizer` prints only these,
 * `--no-tokenizer-compare` skips them), then tokenizer-only against end-to-end throughput on the
 * same input, in one process, then packing
 * simulations (bench/packing.ts): the paper's mix on synthetic lengths, and with `--lengths` a
 * recipe's mix on its real length census (`pnpm pipeline plan --lengths-out CENSUS`).
 *
 * 1. Tokenizer only: every document of the recipe's sources is read into memory first
 *    (`expandPaths` + `readSources`, bad records skipped and counted), then a
 *    {@link TokenizerPool} with the build's worker count encodes them all, `--repeat` times.
 *    Only `pool.tokenize(...)` is timed; the workers' start (ranks load, one warm-up document
 *    each) is timed apart and left out.
 * 2. End to end: `buildMix` on the same recipe into a temporary directory (removed afterwards),
 *    timed whole (hashing, reading, decompressing, worker start, tokenizing, spilling, packing,
 *    writing); tokens = `manifest.totals.tokensRead`. Its `onProgress` splits the time at the
 *    first and last tokenized document.
 *
 * Both use one LLaMA-3 spec built once. Tokens include BOS/EOS. MB = 10^6 bytes of UTF-8 text
 * (the build's inputs are compressed on disk; its MB/s is of the same decoded text). Peak RSS is
 * `process.resourceUsage().maxRSS` (KiB, whole process, worker threads included), which never
 * goes down: the figure after phase 2 is the peak of the whole run. Timing: `process.hrtime.bigint()`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { buildMix, type BuildProgress } from '../src/run/build.ts';
import { loadRecipe } from '../src/config/load.ts';
import type { Doc } from '../src/core/doc.ts';
import { expandPaths } from '../src/read/files.ts';
import { readSources, type ResolvedSource } from '../src/read/index.ts';
import { buildTokenizerSpec } from '../src/tokenize/registry.ts';
import { defaultWorkerCount, TokenizerPool } from '../src/tokenize/pool.ts';
import { readLengthCensus } from '../src/census/lengthCensus.ts';
import { positiveInt, positiveNumber } from '../src/cli/args.ts';
import { PipelineError } from '../src/core/errors.ts';
import { simulateCensusPacking, simulatePacking } from './packing.ts';
import { buildBench, planMemory } from './build.ts';
import { scaleBench } from './scale.ts';
import { tokenizerBench } from './tokenizer.ts';

const repoPath = (rel: string) => path.relative(process.cwd(), fileURLToPath(new URL(`../${rel}`, import.meta.url)));
const DEFAULT_RECIPE = repoPath('pipelines/shared-samples-small.yaml');
const FALLBACK_RECIPE = repoPath('pipelines/sample.yaml');
const SHARED_SAMPLES = repoPath('../shared/samples');

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const peakRssMiB = () => process.resourceUsage().maxRSS / 1024;

const opts = new Command('bench')
  .description('Tokenizer-only vs end-to-end build throughput on one recipe.')
  .option('--recipe <file>', `recipe YAML (default ${DEFAULT_RECIPE}, or ${FALLBACK_RECIPE} when ${SHARED_SAMPLES} is missing)`)
  .option('--workers <n>', 'tokenizer worker threads (as the build)', positiveInt, defaultWorkerCount())
  .option('--repeat <k>', 'tokenize the in-memory texts K times for the tokenizer-only figure', positiveInt, 1)
  .option('--sim-scale <f>', 'scale of the LongRoPE2 mix in the packing simulation (1 = 10B tokens)', positiveNumber, 0.01)
  .option('--sim-buffer-rows <n>', 'best-fit buffer of the packing simulations, rows', positiveInt, 64)
  .option('--lengths <file>', 'also simulate packing on a real length census (written by `pnpm pipeline plan --lengths-out FILE`)')
  .option('--lengths-scale <f>', "scale of the census recipe's budgets in that simulation", positiveNumber, 1)
  .option('--packing-only', 'print only the packing simulations (no throughput phases)')
  .option('--tokenizer', 'print only the tokenizer comparisons (bench/tokenizer.ts)')
  .option('--no-tokenizer-compare', 'skip the tokenizer comparisons')
  .option('--tokenizer-corpus-mb <n>', 'size of the larger text corpus of the tokenizer comparisons, MB', positiveNumber, 20)
  .option('--build', 'print only the build bench (bench/build.ts): units of work vs tokenizer only at 1 and 2 workers, unit and plan memory, Slurm')
  .option('--no-build-bench', 'skip the build bench')
  .option('--corpus-mb <n>', 'text in the build bench corpus, MB (made from ../shared/samples)', positiveNumber, 50)
  .option('--plan', 'print only the plan memory measurement (bench/planRss.ts): the plan on a synthetic census of --plan-docs in-cell documents')
  .option('--plan-docs <n>', 'in-cell documents of the plan memory measurement (issue 9: 10 million within 2 GB)', positiveInt, 10_000_000)
  .option('--slurm-tasks <n>', 'array tasks of the Slurm measurement (when a cluster runs)', positiveInt, 2)
  .option('--scale', 'print only the scale bench (bench/scale.ts): early stop and the byte prefilter on a RedPajama-v2-like corpus')
  .option('--scale-files <n>', 'files of the scale bench corpus', positiveInt, 200)
  .parse(process.argv)
  .opts<{
    recipe?: string;
    workers: number;
    repeat: number;
    simScale: number;
    simBufferRows: number;
    lengths?: string;
    lengthsScale: number;
    packingOnly?: boolean;
    tokenizer?: boolean;
    tokenizerCompare: boolean;
    tokenizerCorpusMb: number;
    build?: boolean;
    buildBench: boolean;
    corpusMb: number;
    plan?: boolean;
    planDocs: number;
    slurmTasks: number;
    scale?: boolean;
    scaleFiles: number;
  }>();

/** Phases 1 and 2: tokenizer-only and end-to-end throughput, printed as a table. */
async function throughput(): Promise<void> {
  const notes: string[] = [];
  let recipeFile = opts.recipe ?? DEFAULT_RECIPE;
  if (!opts.recipe && !existsSync(SHARED_SAMPLES)) {
    recipeFile = FALLBACK_RECIPE;
    notes.push(`${SHARED_SAMPLES} not found: fell back to ${FALLBACK_RECIPE} (synthetic sample corpus)`);
  }
  const loaded = await loadRecipe(recipeFile);
  const spec = await buildTokenizerSpec(loaded.recipe.tokenizer);

  // Read every document into memory (not timed).
  const sources: ResolvedSource[] = [];
  for (const config of loaded.recipe.sources) sources.push({ config, files: await expandPaths(config.name, config.paths, loaded.baseDir) });
  const fileBytes = sources.reduce((s, src) => s + src.files.reduce((t, f) => t + f.sizeBytes, 0), 0);
  let docs: Doc[] = [];
  let badRecords = 0;
  for await (const item of readSources(sources)) {
    if (item.kind === 'doc') docs.push(item.doc);
    else badRecords++;
  }
  const textBytes = docs.reduce((s, d) => s + Buffer.byteLength(d.text, 'utf8'), 0);
  if (badRecords) notes.push(`${fmt(badRecords)} bad records skipped by the tokenizer-only phase`);

  // Phase 0: tokenizer comparisons (bench/tokenizer.ts), on the LLaMA-3 spec whatever the recipe's tokenizer.
  if (opts.tokenizer || opts.tokenizerCompare) {
    const llama3 = spec.kind === 'tiktoken' ? spec : await buildTokenizerSpec('llama3');
    if (llama3.kind !== 'tiktoken') throw new PipelineError('Expected the llama3 tokenizer spec to be a tiktoken spec');
    await tokenizerBench(
      llama3,
      docs.map((d) => d.text),
      opts.tokenizerCorpusMb,
      (line) => console.log(line),
    );
    console.log('');
    if (opts.tokenizer) return;
  }

  // Phase 1: tokenizer only.
  const startPool = process.hrtime.bigint();
  const pool = new TokenizerPool(spec, opts.workers);
  await Promise.all(Array.from({ length: opts.workers }, () => pool.encodeDocument('warm-up')));
  const poolStartS = seconds(startPool);
  async function* inMemory(): AsyncGenerator<Doc> {
    for (let r = 0; r < opts.repeat; r++) yield* docs;
  }
  let tokTokens = 0;
  const startTok = process.hrtime.bigint();
  try {
    for await (const doc of pool.tokenize(inMemory())) tokTokens += doc.ids.length;
  } finally {
    await pool.close();
  }
  const tokS = seconds(startTok);
  const tokensPerPass = tokTokens / opts.repeat;
  const rssAfterTok = peakRssMiB();
  const documents = docs.length;
  docs = []; // let the texts go before the build

  // Phase 2: end to end.
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'longmix-bench-'));
  let e2eS: number;
  let manifest;
  const startBuild = process.hrtime.bigint();
  let firstDocS = 0; // build start → first document back from the pool (hashing, worker start)
  let lastDocS = 0; // build start → last document back from the pool
  try {
    const onProgress = (p: BuildProgress) => {
      if (p.stage !== 'census' || p.documents === 0) return;
      lastDocS = seconds(startBuild);
      if (firstDocS === 0) firstDocS = lastDocS;
    };
    ({ manifest } = await buildMix({ loaded, outDir, workers: opts.workers, tokenizerSpec: spec, onProgress }));
    e2eS = seconds(startBuild);
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
  const rssPeak = peakRssMiB();

  const tokRate = tokTokens / tokS;
  const e2eTokens = manifest.totals.tokensRead;
  const e2eRate = e2eTokens / e2eS;
  const rowCapacity = manifest.rows.total * manifest.geometry.rowTokens;
  if (e2eTokens !== tokensPerPass) notes.push(`token counts differ: tokenizer-only ${fmt(tokensPerPass)} per pass, build ${fmt(e2eTokens)}`);

  const cpus = os.cpus();
  const rows: [string, string][] = [
    ['machine', `${os.availableParallelism()} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${os.platform()} ${os.arch()}`],
    ['node', process.version],
    ['recipe', `${recipeFile} (${loaded.recipe.name})`],
    ['workers', `${opts.workers}${opts.workers === defaultWorkerCount() ? ' (default)' : ''}`],
    ['input', `${fmt(sources.reduce((s, src) => s + src.files.length, 0))} files, ${fmt(fileBytes)} bytes on disk; ${fmt(textBytes)} bytes UTF-8 text`],
    ['documents', fmt(documents)],
    ['tokens', `${fmt(tokensPerPass)} (incl. BOS/EOS)`],
    ['', ''],
    ['pool start', `${fmt(poolStartS * 1000, 0)} ms (${opts.workers} worker${opts.workers > 1 ? 's' : ''} ready; not in the tokenizer-only time)`],
    [
      'tokenizer only',
      `${fmt(tokRate)} tokens/s, ${fmt((textBytes * opts.repeat) / 1e6 / tokS, 2)} MB/s (${opts.repeat} pass${opts.repeat > 1 ? 'es' : ''}, ${fmt(tokTokens)} tokens in ${fmt(tokS, 3)} s)`,
    ],
    ['end to end', `${fmt(e2eRate)} tokens/s, ${fmt(textBytes / 1e6 / e2eS, 2)} MB/s (buildMix, ${fmt(e2eTokens)} tokens read in ${fmt(e2eS, 3)} s)`],
    [
      'build phases',
      `${fmt(firstDocS, 3)} s to first document (hash inputs, start workers), ${fmt(lastDocS - firstDocS, 3)} s reading+tokenizing, ${fmt(e2eS - lastDocS, 3)} s plan+write`,
    ],
    ['ratio e2e/tok', `${fmt(e2eRate / tokRate, 3)}`],
    ['', ''],
    ['peak RSS', `${fmt(rssAfterTok, 1)} MiB after tokenizer-only, ${fmt(rssPeak, 1)} MiB whole run`],
    ['rows', `${fmt(manifest.rows.total)} × ${fmt(manifest.geometry.rowTokens)} tokens (short ${fmt(manifest.rows.short)}, long ${fmt(manifest.rows.long)})`],
    ['padding', `${fmt(manifest.totals.padTokens)} tokens = ${rowCapacity ? fmt((100 * manifest.totals.padTokens) / rowCapacity, 2) : '0.00'}% of row tokens`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log('longmix bench: tokenizer-only vs end-to-end build');
  for (const [k, v] of rows) console.log(k ? `${k.padEnd(width)}  ${v}` : '');
  for (const note of notes) console.log(`note: ${note}`);
}

async function main(): Promise<void> {
  // Read first, so that a bad census file fails before the long phases.
  const census = opts.lengths ? await readLengthCensus(opts.lengths) : undefined;
  if (opts.scale) {
    await scaleBench({ samplesDir: SHARED_SAMPLES, files: opts.scaleFiles, workers: opts.workers });
    return;
  }
  if (opts.plan) {
    for (const line of planMemory(opts.planDocs)) console.log(line);
    return;
  }
  if (opts.build) {
    await buildBench({ corpusMb: opts.corpusMb, samplesDir: SHARED_SAMPLES, planDocs: opts.planDocs, slurmTasks: opts.slurmTasks });
    return;
  }
  if (!opts.packingOnly) {
    await throughput();
    console.log('');
  }
  if (opts.tokenizer) return;
  if (!opts.packingOnly && opts.buildBench && existsSync(SHARED_SAMPLES)) {
    await buildBench({ corpusMb: opts.corpusMb, samplesDir: SHARED_SAMPLES, planDocs: opts.planDocs, slurmTasks: opts.slurmTasks });
    console.log('');
  }
  for (const line of simulatePacking(opts.simScale, opts.simBufferRows)) console.log(line);
  if (census) {
    console.log('');
    for (const line of simulateCensusPacking(census, opts.lengths!, opts.lengthsScale, opts.simBufferRows)) console.log(line);
  }
}

// The user's mistakes (a bad recipe or census file) print as one line, as in `pnpm pipeline`.
await main().catch((error: unknown) => {
  if (error instanceof PipelineError) console.error(`longmix bench: ${error.name}: ${error.message}`);
  else console.error(error);
  process.exitCode = 1;
});
