import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { glob } from 'tinyglobby';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import type { SourceConfig } from '../../src/config/schema.ts';
import type { ReadItem } from '../../src/core/doc.ts';
import { expandPaths } from '../../src/read/files.ts';
import { readSources } from '../../src/read/index.ts';
import { fnv1a } from '../../src/read/datasets/starcoder.ts';
import { removeTempDirs, tempDir } from '../helpers/build.ts';
import { SHARED_SAMPLES, skipWithoutSharedSamples } from '../helpers/sharedSamples.ts';
import { repoRows, writeStarcoderFiles } from '../helpers/starcoder.ts';

afterAll(removeTempDirs);

const source = (over: Partial<SourceConfig>): SourceConfig =>
  ({ name: 's', paths: [], window: 'long', budgetTokens: 'all', lengthTokens: { min: 2, max: 100_000 }, maxRepetition: 1, ...over }) as SourceConfig;

async function readAll(config: SourceConfig, baseDir: string): Promise<ReadItem[]> {
  const files = await expandPaths(config.name, config.paths, baseDir);
  const out: ReadItem[] = [];
  for await (const item of readSources([{ config, files, baseDir }])) out.push(item);
  return out;
}
const docs = (items: ReadItem[]) => items.flatMap((i) => (i.kind === 'doc' ? [i.doc] : []));

describe.skipIf(skipWithoutSharedSamples)('dataset adapters over the real samples', () => {
  it('redpajama-v1: arxiv ids from meta, common_crawl (flat records) ids from file and line', async () => {
    const arxiv = docs(await readAll(source({ dataset: 'redpajama-v1', paths: ['redpajama-v1/arxiv.jsonl'] }), SHARED_SAMPLES));
    expect(arxiv).toHaveLength(20);
    expect(arxiv[0].id).toBe('arxiv:2208.13940');
    expect(new Set(arxiv.map((d) => d.id)).size).toBe(20);
    const cc = docs(await readAll(source({ dataset: 'redpajama-v1', paths: ['redpajama-v1/*.jsonl.zst'] }), SHARED_SAMPLES));
    expect(cc.map((d) => d.id).slice(0, 2)).toEqual(['redpajama-cc-2023-06-refined.jsonl.zst:1', 'redpajama-cc-2023-06-refined.jsonl.zst:2']);
  });

  it('fineweb-edu: ids from the id column; token_count and date are not needed', async () => {
    const items = docs(
      await readAll(source({ dataset: 'fineweb-edu', window: 'short', paths: ['fineweb-edu-like/ccnet-as-fineweb-edu.zstd.parquet'] }), SHARED_SAMPLES),
    );
    expect(items).toHaveLength(20);
    expect(items[0].id).toMatch(/^<urn:uuid:[^>]+>$/);
  });

  it('redpajama-v2: layout ids, raw_content, and quality filters streamed beside the documents', async () => {
    // Build the RedPajama-v2 layout from the CCNet samples (same pipeline, same fields; text -> raw_content).
    const dir = await tempDir();
    const lines = gunzipSync(await readFile(path.join(SHARED_SAMPLES, 'redpajama-v2-like-ccnet/cc_en_head-0091.jsonl.gz')))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const key = '2020-16/0091/en_head.json.gz';
    await mkdir(path.join(dir, 'documents/2020-16/0091'), { recursive: true });
    await mkdir(path.join(dir, 'quality_signals/2020-16/0091'), { recursive: true });
    await writeFile(path.join(dir, `documents/${key}`), gzipSync(lines.map((d) => JSON.stringify({ raw_content: d.text, doc_id: d.id })).join('\n') + '\n'));
    const words = lines.map((d) => d.text.split(/\s+/).filter(Boolean).length);
    const signals = lines.map((d, i) => ({
      id: `${key}/${i}`,
      quality_signals: { rps_doc_word_count: [[0, d.text.length, words[i]]], ccnet_perplexity: [[0, d.text.length, d.metadata.perplexity]] },
    }));
    await writeFile(path.join(dir, 'quality_signals/2020-16/0091/en_head.signals.json.gz'), gzipSync(signals.map((s) => JSON.stringify(s)).join('\n') + '\n'));

    const all = await readAll(source({ dataset: 'redpajama-v2', paths: ['documents/**/*.json.gz'] }), dir);
    expect(docs(all).map((d) => d.id)).toEqual(lines.map((_, i) => `${key}/${i}`));
    expect(docs(all)[3].text).toBe(lines[3].text);

    const filtered = await readAll(
      source({ dataset: 'redpajama-v2', paths: ['documents/**/*.json.gz'], qualityFilters: [{ signal: 'rps_doc_word_count', min: 300 }] }),
      dir,
    );
    const kept = words.filter((w) => w >= 300).length;
    expect(docs(filtered)).toHaveLength(kept);
    expect(filtered.filter((i) => i.kind === 'filtered')).toHaveLength(lines.length - kept);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(lines.length);

    // Trailing blank lines on either side are skipped input, not records: documents and signals stay in step.
    await writeFile(path.join(dir, `documents/${key}`), gzipSync(lines.map((d) => JSON.stringify({ raw_content: d.text, doc_id: d.id })).join('\n') + '\n\n'));
    await writeFile(
      path.join(dir, 'quality_signals/2020-16/0091/en_head.signals.json.gz'),
      gzipSync(signals.map((s) => JSON.stringify(s)).join('\n') + '\n\n\n'),
    );
    const withBlanks = await readAll(
      source({ dataset: 'redpajama-v2', paths: ['documents/**/*.json.gz'], qualityFilters: [{ signal: 'rps_doc_word_count', min: 300 }] }),
      dir,
    );
    expect(docs(withBlanks).map((d) => d.id)).toEqual(docs(filtered).map((d) => d.id));
    expect(withBlanks.filter((i) => i.kind === 'skipped').map((i) => i.kind === 'skipped' && i.skipped.reason)).toEqual(['blank_line']);

    await expect(
      readAll(source({ dataset: 'redpajama-v2', paths: ['documents/**/*.json.gz'], qualityFilters: [{ signal: 'no_such_signal', min: 1 }] }), dir),
    ).rejects.toThrow('quality_signals/2020-16/0091/en_head.signals.json.gz:1: quality signals record has no signal "no_such_signal"');
    // A signals file out of step with its documents is an error, never a silent mismatch.
    await writeFile(
      path.join(dir, 'quality_signals/2020-16/0091/en_head.signals.json.gz'),
      gzipSync(
        signals
          .slice(1)
          .map((s) => JSON.stringify(s))
          .join('\n') + '\n',
      ),
    );
    await expect(
      readAll(source({ dataset: 'redpajama-v2', paths: ['documents/**/*.json.gz'], qualityFilters: [{ signal: 'rps_doc_word_count', min: 1 }] }), dir),
    ).rejects.toThrow(`quality_signals/2020-16/0091/en_head.signals.json.gz:1: signals record id "${key}/1" does not match document "${key}/0"`);
  });
});

describe('starcoder', () => {
  it('concatenates each repository in path order, across files and partitions, in bounded memory', async () => {
    const rows = await repoRows();
    const dir = await tempDir();
    await writeStarcoderFiles(dir, rows);
    const config = source({ dataset: 'starcoder', paths: ['JavaScript/*.parquet'], repositories: { separator: '\n<file_sep>\n', partitionBytes: 20_000 } });
    const out = docs(await readAll(config, dir));
    const repos = [...new Set(rows.map((r) => r.max_stars_repo_name))];
    for (const repo of repos) {
      const files = rows.filter((r) => r.max_stars_repo_name === repo).sort((a, b) => (a.max_stars_repo_path < b.max_stars_repo_path ? -1 : 1));
      const parts = out.filter((d) => d.id.startsWith(`${repo}#`));
      expect(parts.map((d) => d.id)).toEqual(parts.map((_, i) => `${repo}#${i}`));
      expect(parts.map((d) => d.text).join('\n<file_sep>\n')).toBe(files.map((f) => f.content).join('\n<file_sep>\n'));
    }
    expect(out.length).toBe(repos.length); // maxChars defaults to 4 x 100,000: one part each here

    // A small maxChars starts a new part before the file that would pass it.
    const small = docs(await readAll({ ...config, repositories: { separator: '\n', partitionBytes: 20_000, maxChars: 30_000 } }, dir));
    expect(small.length).toBeGreaterThan(repos.length);
    const contents = new Set(rows.map((r) => r.content));
    // A part is at most maxChars, unless it is a single file that is longer on its own.
    for (const d of small) expect(d.text.length <= 30_000 || contents.has(d.text), d.id).toBe(true);
    expect(small.some((d) => d.text.length > 30_000)).toBe(true);
  });

  it('without repositories, each file is a document with id <repo>/<path>', async () => {
    const rows = (await repoRows()).slice(0, 5);
    const dir = await tempDir();
    const columnData = ['max_stars_repo_name', 'max_stars_repo_path', 'content'].map((name) => ({ name, data: rows.map((r) => r[name as keyof typeof r]) }));
    await writeFile(path.join(dir, 'train.parquet'), Buffer.from(parquetWriteBuffer({ columnData })));
    const out = docs(await readAll(source({ dataset: 'starcoder', paths: ['train.parquet'] }), dir));
    expect(out.map((d) => d.id)).toEqual(rows.map((r) => `${r.max_stars_repo_name}/${r.max_stars_repo_path}`));
  });
});
