import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SourceConfig } from '../../src/config/schema.ts';
import { expandPaths } from '../../src/read/files.ts';
import { readFile } from '../../src/read/index.ts';
import { sampleCorpus } from '../../scripts/sampleCorpus.ts';

const SAMPLE_DIR = fileURLToPath(new URL('../../data/sample/', import.meta.url));

// Each committed file of data/sample (JSONL plain/gzip/zstd, Parquet, text) is read back by the
// project's readers and compared, record by record, with the generator's records.
describe('readers over the committed sample corpus', () => {
  for (const file of sampleCorpus()) {
    it(`${file.path} (${file.format})`, async () => {
      const format = file.format.startsWith('jsonl') ? 'jsonl' : file.format;
      const textField = file.path.startsWith('code/') ? 'content' : 'text';
      const config = {
        name: 's',
        format,
        paths: [file.path],
        textField,
        window: 'short',
        budgetTokens: 'all',
        lengthTokens: { min: 2, max: 2 },
      } as SourceConfig;
      const [input] = await expandPaths('s', [file.path], SAMPLE_DIR);
      const texts: string[] = [];
      const ids: string[] = [];
      for await (const item of readFile(config, input)) {
        if (item.kind !== 'doc') throw new Error(JSON.stringify(item));
        texts.push(item.doc.text);
        ids.push(item.doc.id);
      }
      expect(texts).toEqual(file.records.map((r) => r[textField]));
      // One file in the source: ids name it by its base name.
      const name = path.basename(file.path);
      if (format === 'jsonl') expect(ids[1]).toBe(`${name}:2`);
      if (format === 'parquet') expect(ids[1]).toBe(`${name}#1`);
      if (format === 'text') expect(ids).toEqual([name]);
    });
  }

  it('names files in ids relative to the directory that holds all of the source, wherever the recipe is', async () => {
    const patterns = ['web/*.jsonl*', 'books/*.txt'];
    const fromSample = await expandPaths('s', patterns, SAMPLE_DIR);
    expect(fromSample.map((f) => [f.relPath, f.idPath])).toEqual([
      ['books/long-book.txt', 'books/long-book.txt'],
      ['books/short-book.txt', 'books/short-book.txt'],
      ['web/pages.jsonl', 'web/pages.jsonl'],
      ['web/pages.jsonl.gz', 'web/pages.jsonl.gz'],
    ]);
    // The same files named from elsewhere, by relative and by absolute patterns: other relPaths, same idPaths.
    const elsewhere = path.join(SAMPLE_DIR, '..', '..', 'test');
    const fromTest = await expandPaths('s', ['../data/sample/web/*.jsonl*', path.join(SAMPLE_DIR, 'books', '*.txt')], elsewhere);
    expect(fromTest.map((f) => f.relPath)).toEqual([
      '../data/sample/books/long-book.txt',
      '../data/sample/books/short-book.txt',
      '../data/sample/web/pages.jsonl',
      '../data/sample/web/pages.jsonl.gz',
    ]);
    expect(fromTest.map((f) => f.idPath)).toEqual(fromSample.map((f) => f.idPath));
  });

  it('holds special-token strings, non-ASCII text and CRLF line ends', () => {
    const all = sampleCorpus().flatMap((f) => f.records.map((r) => String(r.text ?? r.content)));
    expect(all.some((t) => t.includes('<|end_of_text|>'))).toBe(true);
    expect(all.some((t) => /[東京数据]/.test(t))).toBe(true);
    expect(all.some((t) => t.includes('\r\n'))).toBe(true);
    expect(path.basename(SAMPLE_DIR)).toBe('sample');
  });
});
