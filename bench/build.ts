/**
 * The build bench (`pnpm bench --build`, part of `pnpm bench`): the units-of-work build against
 * the tokenizer alone, on a corpus of at least 50 MB of text made from the samples (bench/corpus.ts).
 *
 * For 1 and 2 local workers:
 * - tokenizer only: every document read into memory first (not timed), then encoded by a
 *   TokenizerPool of that many worker threads, documents handed to whichever worker is free
 *   (8 in flight per worker); tokens/s over the encoding only;
 * - end to end: `buildMix` into a fresh directory, timed whole (listing, workers' start, every
 *   stage, the commit); tokens = `manifest.totals.tokensRead`.
 * Then: their ratio and the scaling from 1 to 2 workers; the peak RSS of one census unit on the
 * corpus's largest file, in a fresh process (bench/unitRss.ts); the plan's memory per in-cell
 * document on a synthetic document table, in a fresh process (bench/planRss.ts); and, when a
 * Slurm cluster is up (scripts/slurm/cluster.sh), the same build with `--executor slurm`.
 * Timing: `process.hrtime.bigint()`; RSS: `process.resourceUsage().maxRSS`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRecipe } from '../src/config/load.ts';
import type { Doc } from '../src/core/doc.ts';
import { expandPaths } from '../src/read/files.ts';
import { readSources, type ResolvedSource } from '../src/read/index.ts';
import { buildMix } from '../src/run/build.ts';
import { TokenizerPool } from '../src/tokenize/pool.ts';
import { buildTokenizerSpec } from '../src/tokenize/registry.ts';
import type { TokenizerSpec } from '../src/tokenize/tokenizer.ts';
import { benchRecipe, makeBenchCorpus } from './corpus.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** Encodes every document on a pool of `workers` threads, 8 in flight per worker; returns tokens and seconds. */
async function tokenizerOnly(spec: TokenizerSpec, docs: readonly Pick<Doc, 'text'>[], workers: number): Promise<{ tokens: number; seconds: number }> {
  const pool = new TokenizerPool(spec, workers);
  try {
    await Promise.all(Array.from({ length: workers }, () => pool.encodeDocument('warm up')));
    const start = process.hrtime.bigint();
    let next = 0;
    let tokens = 0;
    const lane = async () => {
      while (next < docs.length) tokens += (await pool.encodeDocument(docs[next++].text)).length;
    };
    await Promise.all(Array.from({ length: 8 * workers }, lane));
    return { tokens, seconds: seconds(start) };
  } finally {
    await pool.close();
  }
}

/** Peak RSS (MiB) of a fresh process running `script` with `args`, and the numbers it prints (one JSON line). */
function freshProcess(script: string, args: string[]): Record<string, number> {
  const out = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', script), ...args], { cwd: ROOT, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${script} failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as Record<string, number>;
}

/**
 * The plan's memory on a synthetic census of `documents` in-cell documents, in a fresh process
 * (bench/planRss.ts): one line, then the line of the issue-9 target (2 GB for 10 million).
 */
export function planMemory(documents: number): string[] {
  const plan = freshProcess('planRss.ts', [String(documents)]);
  const targetBytesPerDoc = 2e9 / 10_000_000;
  return [
    `${fmt(plan.peakMiB, 1)} MiB peak RSS for ${fmt(documents)} in-cell documents: ${fmt(plan.bytesPerDoc)} bytes per document above the ${fmt(plan.baselineMiB, 1)} MiB baseline (document tables ${fmt(plan.tablesMiB - plan.baselineMiB, 1)} MiB of it); plan ${fmt(plan.seconds, 1)} s wall (${fmt(plan.rows)} rows, ${fmt(plan.shards)} shards; encoding the tables, the census units' work, ${fmt(plan.tablesSeconds, 1)} s)`,
    `target (issue 9): 10,000,000 documents within 2 GB, ${fmt(targetBytesPerDoc)} bytes per document: ${plan.peakMiB * 1024 * 1024 <= (2e9 * documents) / 10_000_000 ? 'met' : 'NOT met'} at this size`,
  ];
}

function slurmUp(): string | null {
  try {
    execFileSync('bash', [path.join(ROOT, 'scripts/slurm/cluster.sh'), 'running'], { stdio: 'ignore' });
    return /export SLURM_CONF=(\S+)/.exec(execFileSync('bash', [path.join(ROOT, 'scripts/slurm/cluster.sh'), 'env'], { encoding: 'utf8' }))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Runs the build bench and prints its table. */
export async function buildBench(options: { corpusMb: number; samplesDir: string; planDocs: number; slurmTasks: number }): Promise<void> {
  const corpusDir = path.join(os.tmpdir(), `longmix-bench-corpus-${options.corpusMb}mb`);
  const corpus = await makeBenchCorpus(options.samplesDir, corpusDir, options.corpusMb);
  const recipeFile = path.join(corpusDir, 'bench.yaml');
  await writeFile(recipeFile, benchRecipe(corpus));
  const loaded = await loadRecipe(recipeFile);
  const spec = await buildTokenizerSpec('llama3');
  const sources: ResolvedSource[] = [];
  for (const config of loaded.recipe.sources) sources.push({ config, files: await expandPaths(config.name, config.paths, loaded.baseDir) });
  const fileBytes = sources.reduce((s, src) => s + src.files.reduce((t, f) => t + f.sizeBytes, 0), 0);
  const files = sources.reduce((s, src) => s + src.files.length, 0);
  let docs: Pick<Doc, 'text'>[] = [];
  for await (const item of readSources(sources)) if (item.kind === 'doc') docs.push({ text: item.doc.text });
  const lines: [string, string][] = [
    [
      'corpus',
      `${fmt(files)} files, ${fmt(fileBytes)} bytes on disk, ${fmt(corpus.textBytes)} bytes of text, ${fmt(docs.length)} documents (${corpus.kinds.map((k) => `${k.name} ${k.files}`).join(', ')}) in ${corpusDir}`,
    ],
    ['machine', `${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim() ?? 'unknown'}), node ${process.version}`],
  ];
  const rates: Record<number, { tok: number; e2e: number }> = {};
  for (const workers of [1, 2]) {
    const tok = await tokenizerOnly(spec, docs, workers);
    const out = await mkdtemp(path.join(os.tmpdir(), 'longmix-bench-build-'));
    const start = process.hrtime.bigint();
    let manifest;
    try {
      ({ manifest } = await buildMix({ loaded, outDir: out, workers, tokenizerSpec: spec }));
    } finally {
      await rm(out, { recursive: true, force: true });
    }
    const e2eS = seconds(start);
    const e2e = manifest.totals.tokensRead / e2eS;
    rates[workers] = { tok: tok.tokens / tok.seconds, e2e };
    lines.push([
      `${workers} worker${workers > 1 ? 's' : ''}`,
      `tokenizer only ${fmt(tok.tokens / tok.seconds)} tokens/s; end to end ${fmt(e2e)} tokens/s (${fmt(manifest.totals.tokensRead)} tokens in ${fmt(e2eS, 2)} s); ratio ${fmt(e2e / (tok.tokens / tok.seconds), 3)}`,
    ]);
  }
  lines.push(['scaling', `end to end 2 workers / 1 worker ${fmt(rates[2].e2e / rates[1].e2e, 2)}×; tokenizer only ${fmt(rates[2].tok / rates[1].tok, 2)}×`]);
  docs = [];
  // One census unit on the corpus's largest file, in a fresh process.
  const largest = (
    await Promise.all(sources.flatMap((s) => s.files.map(async (f) => ({ source: s.config.name, file: f.absPath, size: (await stat(f.absPath)).size }))))
  ).sort((a, b) => b.size - a.size)[0];
  const unit = freshProcess('unitRss.ts', [recipeFile, largest.source, largest.file]);
  lines.push([
    'census unit RSS',
    `${fmt(unit.peakMiB, 1)} MiB peak (${fmt(unit.baselineMiB, 1)} MiB with the tokenizer loaded, before reading) on ${path.basename(largest.file)} (${fmt(largest.size)} bytes, ${fmt(unit.documents)} documents)`,
  ]);
  lines.push(['plan memory', planMemory(options.planDocs)[0]]);
  const conf = slurmUp();
  if (conf) {
    const out = await mkdtemp(path.join(os.tmpdir(), 'longmix-bench-slurm-'));
    const start = process.hrtime.bigint();
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'src/cli/main.ts'),
        'build-mix',
        '--recipe',
        recipeFile,
        '--out',
        out,
        '--executor',
        'slurm',
        '--tasks',
        String(options.slurmTasks),
        '--wait',
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, SLURM_CONF: conf, CI: 'true' },
      },
    );
    const s = seconds(start);
    const tokens = /read ([\d,]+),/.exec(r.stdout)?.[1];
    lines.push([
      'slurm',
      r.status === 0 && tokens
        ? `${options.slurmTasks} tasks (1 CPU each): ${fmt(Number(tokens.replaceAll(',', '')) / s)} tokens/s end to end (${fmt(s, 1)} s, submission to commit)`
        : `failed: ${r.stderr.trim().split('\n')[0]}`,
    ]);
    await rm(out, { recursive: true, force: true });
  } else lines.push(['slurm', 'SKIPPED: no cluster running (scripts/slurm/cluster.sh start)']);
  const width = Math.max(...lines.map(([k]) => k.length));
  console.log('longmix bench: the build as units of work vs the tokenizer alone');
  for (const [k, v] of lines) console.log(`${k.padEnd(width)}  ${v}`);
  for (const note of corpus.notes) console.log(`note: ${note}`);
}
