/**
 * What a build records about its inputs: every file that influences the output (RedPajama-v2
 * quality signals included) with the SHA-256 of the bytes read; a file that changes while it is
 * read fails the build; a corrupt file is an error, or under `onBadFile: skip` left out whole and
 * listed.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/config/load.ts';
import { CorruptInputError } from '../../src/core/errors.ts';
import { buildMix } from '../../src/run/build.ts';
import { verifyBuild } from '../../src/verify/verify.ts';
import { llama3Spec, removeTempDirs, tempDir } from '../helpers/build.ts';

afterAll(removeTempDirs);

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function build(recipe: string) {
  return buildMix({ loaded: await loadRecipe(recipe), outDir: await tempDir(), workers: 1, tokenizerSpec: await llama3Spec() });
}

const head = 'name: p\noriginalWindowTokens: 64\nrowTokens: 256\noutput: { worldSize: 1, globalBatchRows: 1 }\n';

describe('inputs', () => {
  it('lists a RedPajama-v2 quality signals file as an input, with the SHA-256 of its bytes', async () => {
    const dir = await tempDir();
    const key = '2023-06/0001/en_head.json.gz';
    const texts = ['a short page about rivers and the sea', 'another page, this one about mountains and snow', 'the third page talks about cities'];
    const docs = gzipSync(texts.map((t) => JSON.stringify({ raw_content: t })).join('\n') + '\n');
    const signals = gzipSync(
      texts
        .map((t, i) => JSON.stringify({ id: `2023-06/0001/en_head.json.gz/${i}`, quality_signals: { rps_doc_word_count: [[0, t.length, i === 1 ? 2 : 9]] } }))
        .join('\n') + '\n',
    );
    await mkdir(path.join(dir, 'documents', '2023-06', '0001'), { recursive: true });
    await mkdir(path.join(dir, 'quality_signals', '2023-06', '0001'), { recursive: true });
    await writeFile(path.join(dir, 'documents', key), docs);
    await writeFile(path.join(dir, 'quality_signals', '2023-06', '0001', 'en_head.signals.json.gz'), signals);
    await writeFile(
      path.join(dir, 'r.yaml'),
      `${head}sources:\n  - { name: rpv2, dataset: redpajama-v2, paths: [documents/**/*.json.gz], qualityFilters: [{ signal: rps_doc_word_count, min: 5 }], window: short, budgetTokens: all, lengthTokens: { min: 2, max: 64 } }\n`,
    );
    const { manifest, outDir } = await build(path.join(dir, 'r.yaml'));
    await verifyBuild(outDir);
    expect(manifest.inputs).toEqual([
      { source: 'rpv2', path: `documents/${key}`, sizeBytes: docs.length, sha256: sha256(docs), etag: null },
      {
        source: 'rpv2',
        path: 'quality_signals/2023-06/0001/en_head.signals.json.gz',
        sizeBytes: signals.length,
        sha256: sha256(signals),
        etag: null,
        role: 'quality_signals',
      },
    ]);
    expect(manifest.sources.rpv2.qualityFiltered.documents).toBe(1);
    expect(manifest.sources.rpv2.read.documents).toBe(2);
  });
});

describe('onBadFile', () => {
  const good = gzipSync(['one two three', 'four five six', 'seven eight'].map((t) => JSON.stringify({ text: t })).join('\n') + '\n');
  const broken = gzipSync(Array.from({ length: 2000 }, (_, i) => JSON.stringify({ text: `line ${i} of a long file` })).join('\n') + '\n').subarray(0, 3000);

  async function recipe(extra: string) {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'a.jsonl.gz'), good);
    await writeFile(path.join(dir, 'b.jsonl.gz'), broken);
    await writeFile(
      path.join(dir, 'r.yaml'),
      `${head}${extra}sources:\n  - { name: web, format: jsonl, paths: ['*.jsonl.gz'], window: short, budgetTokens: all, lengthTokens: { min: 2, max: 64 } }\n`,
    );
    return path.join(dir, 'r.yaml');
  }

  it('fail (the default): the build stops naming the file and the byte offset', async () => {
    const error = await build(await recipe('')).catch((e) => e);
    expect(error).toBeInstanceOf(CorruptInputError);
    expect(error.message).toMatch(/^b\.jsonl\.gz: .*byte/);
  });

  it('skip: the file is left out whole, counted and listed with its offset and the records read before the break', async () => {
    const { manifest, outDir } = await build(await recipe('onBadFile: skip\n'));
    await verifyBuild(outDir);
    const web = manifest.sources.web;
    expect(web.read.documents).toBe(3);
    expect(web.corruptFiles).toHaveLength(1);
    expect(web.corruptFiles[0]).toMatchObject({ path: 'b.jsonl.gz', byteOffset: expect.any(Number) });
    expect(web.corruptFiles[0].recordsRead).toBeGreaterThan(0);
    expect(manifest.inputs.map((i) => [i.path, i.sha256])).toEqual([
      ['a.jsonl.gz', sha256(good)],
      ['b.jsonl.gz', sha256(broken)],
    ]);
  });
});

describe('a file that changes while it is read', () => {
  it('fails the build, naming the file, instead of recording a hash of other bytes', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'a.jsonl');
    await writeFile(file, Array.from({ length: 50 }, (_, i) => JSON.stringify({ text: `document number ${i}` })).join('\n') + '\n');
    await writeFile(
      path.join(dir, 'r.yaml'),
      `${head}sources:\n  - { name: web, format: jsonl, paths: [a.jsonl], window: short, budgetTokens: all, lengthTokens: { min: 2, max: 64 } }\n`,
    );
    // The fault hook stalls the unit after its start; meanwhile the file is rewritten.
    process.env.LONGMIX_FAULT = 'census:u00000:start=sleep:1500';
    try {
      const building = build(path.join(dir, 'r.yaml')).catch((e) => e);
      await new Promise((r) => setTimeout(r, 1200));
      await writeFile(file, (await readFile(file, 'utf8')) + '{"text": "added while the build ran"}\n');
      const error = await building;
      expect(error?.message).toMatch(/^a\.jsonl: the file changed since the build started \(listed with \d+ bytes, now \d+; modified since\)/);
    } finally {
      delete process.env.LONGMIX_FAULT;
    }
  });
});
