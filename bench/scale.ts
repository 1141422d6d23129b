/**
 * The scale bench (`pnpm bench --scale`): what early stop and the byte prefilter save on a corpus
 * that looks like RedPajama-v2: `files` gzip JSONL files of web documents whose lengths follow the
 * heavy tail of web text (log-normal in characters, median 3,000, so that about 1% of documents
 * pass 8,192 tokens), made of the samples' own paragraphs, seeded, generated into a temporary
 * directory and never committed. The same long-only recipe (8,193–200,000 tokens, a budget of a
 * quarter of what the corpus holds) is built three times, each in a fresh process: with early stop
 * and the prefilter (the default), without early stop (every file read), and without either.
 * For each: input bytes read, documents tokenized and prefiltered, files used and read, wall time,
 * peak RSS (bench/scaleBuild.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { SourceConfig } from '../src/config/schema.ts';
import { derivedKey, SplitMix64 } from '../src/core/rng.ts';
import { expandPaths } from '../src/read/files.ts';
import { readSources } from '../src/read/index.ts';
import { paragraphText } from './corpus.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Paragraphs of every sample document (prose and code). */
async function samplePararaphs(samplesDir: string): Promise<string[]> {
  const config = {
    name: 'p',
    format: 'jsonl',
    paths: ['redpajama-v1/arxiv.jsonl', 'redpajama-v2-like-ccnet/*.jsonl.gz'],
    textField: 'text',
    window: 'short',
    budgetTokens: 'all',
    lengthTokens: { min: 2, max: 2 },
    maxRepetition: 1,
  } as unknown as SourceConfig;
  const out: string[] = [];
  for await (const item of readSources([{ config, files: await expandPaths('p', config.paths, samplesDir), baseDir: samplesDir }])) {
    if (item.kind === 'doc') out.push(...item.doc.text.split(/\n{2,}/).filter((p) => p.length > 0));
  }
  return out;
}

/** Makes (or reuses) the corpus; returns its directory and the characters of documents above 32,768 characters. */
async function makeScaleCorpus(samplesDir: string, files: number): Promise<{ dir: string; longChars: number }> {
  const dir = path.join(os.tmpdir(), `longmix-bench-scale-${files}`);
  const stamp = path.join(dir, 'corpus.json');
  if (existsSync(stamp)) return JSON.parse(await readFile(stamp, 'utf8')) as { dir: string; longChars: number };
  const paragraphs = await samplePararaphs(samplesDir);
  const rng = new SplitMix64(derivedKey(7, 'scale-corpus'));
  const uniform = () => (rng.nextBelow(2 ** 30) + 0.5) / 2 ** 30;
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  let longChars = 0;
  await mkdir(path.join(dir, 'documents'), { recursive: true });
  for (let f = 0; f < files; f++) {
    const docs: string[] = [];
    for (let d = 0; d < 40; d++) {
      const length = Math.min(600_000, Math.round(Math.exp(Math.log(3000) + 1.2 * normal())));
      const text = paragraphText(rng, paragraphs, length);
      if (text.length > 32_768) longChars += text.length;
      docs.push(JSON.stringify({ raw_content: text }));
    }
    await writeFile(path.join(dir, 'documents', `part-${String(f).padStart(4, '0')}.jsonl.gz`), gzipSync(docs.join('\n') + '\n'));
  }
  const made = { dir, longChars };
  await writeFile(stamp, JSON.stringify(made));
  return made;
}

/** Runs the scale bench and prints its table. */
export async function scaleBench(options: { samplesDir: string; files: number; workers: number }): Promise<void> {
  const corpus = await makeScaleCorpus(options.samplesDir, options.files);
  // A quarter of the long documents' tokens (about 4 characters per token).
  const budget = Math.max(10_000, Math.floor(corpus.longChars / 4 / 4));
  const recipe = (extra: string) =>
    `name: scale\noriginalWindowTokens: 8192\nrowTokens: 131072\noutput: { worldSize: 1, globalBatchRows: 1 }\nsources:\n  - { name: web, format: jsonl, textField: raw_content, paths: ['${corpus.dir}/documents/*.jsonl.gz'], window: long, budgetTokens: ${budget}, lengthTokens: { min: 8193, max: 200000 }${extra} }\n`;
  const configs: [string, string][] = [
    ['early stop + prefilter', ''],
    ['no early stop', ', oversample: 1000000'],
    ['neither', ', oversample: 1000000, prefilter: false'],
  ];
  const lines: string[][] = [];
  for (const [label, extra] of configs) {
    const file = path.join(corpus.dir, `${label.replaceAll(/\W+/g, '-')}.yaml`);
    await writeFile(file, recipe(extra));
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'scaleBuild.ts'), file, String(options.workers)], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`scale build "${label}" failed: ${run.stderr}`);
    const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, number>;
    lines.push([
      label,
      `${fmt(r.unitsUsed)} used / ${fmt(r.unitsRead)} read of ${fmt(options.files)}`,
      `${fmt(r.bytesRead / 1e6, 1)} MB`,
      fmt(r.documentsTokenized),
      fmt(r.prefiltered),
      `${fmt(r.seconds, 1)} s`,
      `${fmt(r.peakMiB)} MiB`,
    ]);
  }
  const header = ['build', 'files', 'input read', 'docs tokenized', 'prefiltered', 'wall', 'peak RSS'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  console.log(
    `longmix bench: scale (RedPajama-v2-like: ${options.files} gzip files of 40 web documents, ~1% above 8k tokens; budget ${fmt(budget)} tokens of 8,193-200,000; ${options.workers} workers)`,
  );
  for (const l of [header, ...lines]) console.log(l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
}
