/**
 * The build bench's corpus: at least `targetMb` MB of UTF-8 text made from the real samples in
 * ../shared/samples, laid out and compressed as the datasets are (RedPajama-v1 arxiv: plain
 * JSONL; RedPajama-v1 common_crawl: JSONL in zstd; RedPajama-v2: JSONL in gzip; Fineweb-Edu:
 * Parquet; books: one text file each). It is generated, seeded, and never committed.
 *
 * New documents are made by recombining the samples' paragraphs within each kind: a template
 * document (seeded pick) gives the new document's length in characters, and paragraphs of that
 * kind (seeded picks) fill it. So the length mix is the samples' (many short web pages, a few
 * long papers and books), the text is real prose and code, and no document is a plain copy.
 * zstd files need the `zstd` command; without it those documents go to gzip files, said in `note`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { SourceConfig } from '../src/config/schema.ts';
import { derivedKey, SplitMix64 } from '../src/core/rng.ts';
import { expandPaths } from '../src/read/files.ts';
import { readSources } from '../src/read/index.ts';

/** One kind of document of the corpus, where its samples come from and how its files are stored. */
interface Kind {
  name: string;
  samples: Pick<SourceConfig, 'format' | 'dataset' | 'paths' | 'textField'>;
  store: 'jsonl' | 'jsonl.gz' | 'jsonl.zst' | 'parquet' | 'txt';
  /** Share of the corpus's text. */
  share: number;
  /** Text per file, bytes. */
  fileBytes: number;
}

const KINDS: Kind[] = [
  { name: 'arxiv', samples: { dataset: 'redpajama-v1', paths: ['redpajama-v1/arxiv.jsonl'] }, store: 'jsonl', share: 0.35, fileBytes: 4_000_000 },
  { name: 'cc', samples: { format: 'jsonl', paths: ['redpajama-v1/*.jsonl.zst'], textField: 'text' }, store: 'jsonl.zst', share: 0.15, fileBytes: 2_000_000 },
  {
    name: 'ccnet',
    samples: { format: 'jsonl', paths: ['redpajama-v2-like-ccnet/*.jsonl.gz'], textField: 'text' },
    store: 'jsonl.gz',
    share: 0.2,
    fileBytes: 2_000_000,
  },
  {
    name: 'edu',
    samples: { dataset: 'fineweb-edu', paths: ['fineweb-edu-like/ccnet-as-fineweb-edu.zstd.parquet'] },
    store: 'parquet',
    share: 0.15,
    fileBytes: 2_000_000,
  },
  { name: 'books', samples: { format: 'text', paths: ['pg19-like-gutenberg/*.txt'] }, store: 'txt', share: 0.15, fileBytes: 1 },
];

/** What was made. */
/**
 * A document of seeded paragraphs (drawn from `paragraphs` with `rng`, joined by blank lines) at
 * least `lengthChars` characters long (UTF-16 units, separators counted).
 */
export function paragraphText(rng: SplitMix64, paragraphs: readonly string[], lengthChars: number): string {
  const parts: string[] = [];
  let chars = 0;
  while (chars < lengthChars) {
    const p = paragraphs[rng.nextBelow(paragraphs.length)];
    parts.push(p);
    chars += p.length + 2;
  }
  return parts.join('\n\n');
}

export interface BenchCorpus {
  dir: string;
  /** Directory → files and text bytes per kind. */
  kinds: { name: string; files: number; documents: number; textBytes: number }[];
  textBytes: number;
  notes: string[];
}

async function sampleTexts(samplesDir: string, kind: Kind): Promise<string[]> {
  const config = { name: kind.name, window: 'short', budgetTokens: 'all', lengthTokens: { min: 2, max: 2 }, maxRepetition: 1, ...kind.samples } as SourceConfig;
  const texts: string[] = [];
  for await (const item of readSources([{ config, files: await expandPaths(kind.name, config.paths, samplesDir), baseDir: samplesDir }])) {
    if (item.kind === 'doc') texts.push(item.doc.text);
  }
  return texts;
}

/**
 * Makes the corpus in `dir` (reused when `dir/corpus.json` says it was made with the same size and seed).
 * @throws Error when ../shared/samples is missing.
 */
export async function makeBenchCorpus(samplesDir: string, dir: string, targetMb: number, seed = 9176): Promise<BenchCorpus> {
  const stamp = path.join(dir, 'corpus.json');
  if (existsSync(stamp)) {
    const made = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(stamp, 'utf8'))) as BenchCorpus & { targetMb: number; seed: number };
    if (made.targetMb === targetMb && made.seed === seed) return made;
  }
  if (!existsSync(samplesDir)) throw new Error(`${samplesDir} not found: the build bench makes its corpus from the shared samples`);
  const hasZstd = (() => {
    try {
      execFileSync('zstd', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  const notes = hasZstd ? [] : ['no zstd command: the common_crawl-like files are gzip instead of zstd'];
  const result: BenchCorpus = { dir, kinds: [], textBytes: 0, notes };
  for (const kind of KINDS) {
    const templates = await sampleTexts(samplesDir, kind);
    const paragraphs = templates.flatMap((t) => t.split(/\n{2,}/)).filter((p) => p.length > 0);
    const rng = new SplitMix64(derivedKey(seed, 'bench-corpus', kind.name));
    const target = targetMb * 1e6 * kind.share;
    const kindDir = path.join(dir, kind.name);
    await mkdir(kindDir, { recursive: true });
    let made = 0;
    let documents = 0;
    let files = 0;
    while (made < target) {
      const docs: string[] = [];
      let bytes = 0;
      while (bytes < kind.fileBytes && made + bytes < target) {
        const text = paragraphText(rng, paragraphs, templates[rng.nextBelow(templates.length)].length);
        docs.push(text);
        bytes += Buffer.byteLength(text);
      }
      const base = path.join(kindDir, `part-${String(files).padStart(4, '0')}`);
      const jsonl = () =>
        docs.map((text, i) => JSON.stringify(kind.name === 'arxiv' ? { text, meta: { arxiv_id: `bench.${files}.${i}` } } : { text })).join('\n') + '\n';
      if (kind.store === 'txt') for (const [i, text] of docs.entries()) await writeFile(`${base}-${i}.txt`, text);
      else if (kind.store === 'jsonl') await writeFile(`${base}.jsonl`, jsonl());
      else if (kind.store === 'jsonl.gz' || (kind.store === 'jsonl.zst' && !hasZstd)) await writeFile(`${base}.jsonl.gz`, gzipSync(jsonl()));
      else if (kind.store === 'jsonl.zst') {
        await writeFile(`${base}.jsonl`, jsonl());
        execFileSync('zstd', ['-q', '-3', '--rm', '-f', `${base}.jsonl`, '-o', `${base}.jsonl.zst`]);
      } else {
        const columnData = [
          { name: 'text', data: docs },
          { name: 'id', data: docs.map((_, i) => `<urn:bench:${files}:${i}>`) },
        ];
        await writeFile(`${base}.parquet`, Buffer.from(parquetWriteBuffer({ columnData, rowGroupSize: 512 })));
      }
      files += kind.store === 'txt' ? docs.length : 1;
      documents += docs.length;
      made += bytes;
    }
    result.kinds.push({ name: kind.name, files, documents, textBytes: made });
    result.textBytes += made;
  }
  await writeFile(stamp, JSON.stringify({ ...result, targetMb, seed }, null, 2));
  return result;
}

/** A recipe over the corpus: web-like kinds short (≤ 8,192 tokens), arxiv and books long; rows of 131,072 tokens, every document kept. */
export function benchRecipe(corpus: BenchCorpus): string {
  const glob = (kind: string) => {
    const store = KINDS.find((k) => k.name === kind)!.store;
    const ext = store === 'txt' ? 'txt' : store === 'jsonl.zst' && corpus.notes.length ? 'jsonl.gz' : store;
    return `${path.join(corpus.dir, kind)}/*.${ext}`;
  };
  const src = (name: string, how: string, window: 'short' | 'long', min: number, max: number) =>
    `  - { name: ${name}, ${how}, paths: ['${glob(name)}'], window: ${window}, budgetTokens: all, lengthTokens: { min: ${min}, max: ${max} } }`;
  return [
    'name: bench',
    'originalWindowTokens: 8192',
    'rowTokens: 131072',
    'onBadRecord: skip',
    'output: { worldSize: 1, globalBatchRows: 1 }',
    'sources:',
    src('arxiv', 'dataset: redpajama-v1', 'long', 8193, 10_000_000),
    src('cc', 'format: jsonl', 'short', 2, 8192),
    src('ccnet', 'format: jsonl', 'short', 2, 8192),
    src('edu', 'dataset: fineweb-edu', 'short', 2, 8192),
    src('books', 'format: text', 'long', 8193, 10_000_000),
    '',
  ].join('\n');
}
