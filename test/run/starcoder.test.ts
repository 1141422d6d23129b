/**
 * StarCoder repository grouping as units of work: one group unit per Parquet file, one census unit
 * per repository partition; the documents are exactly those the reader's own grouping gives, and
 * the bytes do not depend on the worker count.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SourceConfig } from '../../src/config/schema.ts';
import { loadRecipe } from '../../src/config/load.ts';
import { expandPaths } from '../../src/read/files.ts';
import { readSources } from '../../src/read/index.ts';
import { createRunRecord } from '../../src/run/runRecord.ts';
import { shardRows } from '../../src/shard/reader.ts';
import { verifyBuild } from '../../src/verify/verify.ts';
import { buildMix } from '../../src/run/build.ts';
import { createTokenizerFromSpec } from '../../src/tokenize/registry.ts';
import { filesOf, llama3Spec, removeTempDirs, tempDir } from '../helpers/build.ts';
import { repoRows, writeStarcoderFiles } from '../helpers/starcoder.ts';

afterAll(removeTempDirs);

describe('StarCoder repositories in a build', () => {
  it("group units per file, census units per partition; the reader's documents; the same bytes with 1 and 2 workers", async () => {
    const dir = await tempDir();
    await writeStarcoderFiles(dir, await repoRows());
    const source =
      '{ name: code, dataset: starcoder, paths: [\'JavaScript/*.parquet\'], repositories: { separator: "\\n<file_sep>\\n", partitionBytes: 20000 }, window: long, budgetTokens: all, lengthTokens: { min: 2, max: 400000 } }';
    await writeFile(
      path.join(dir, 'r.yaml'),
      `name: sc\noriginalWindowTokens: 1\nrowTokens: 131072\noutput: { worldSize: 1, globalBatchRows: 1 }\nsources:\n  - ${source}\n`,
    );
    const loaded = await loadRecipe(path.join(dir, 'r.yaml'));
    const spec = await llama3Spec();
    const run = await createRunRecord(loaded, spec.identity, [], path.join(dir, 'o'), path.join(dir, 'w'));
    const totalBytes = run.inputs.reduce((s, i) => s + i.sizeBytes, 0);
    expect(run.group.map((g) => [g.name, g.input, g.partitions])).toEqual([
      ['g00000', 0, Math.ceil((4 * totalBytes) / 20000)],
      ['g00001', 1, Math.ceil((4 * totalBytes) / 20000)],
    ]);
    expect(run.census).toHaveLength(run.group[0].partitions);
    expect(run.census.every((c, k) => c.partition?.index === k && c.inputs.length === 0)).toBe(true);

    const one = await buildMix({ loaded, outDir: await tempDir(), workers: 1, tokenizerSpec: spec });
    const two = await buildMix({ loaded, outDir: await tempDir(), workers: 2, tokenizerSpec: spec });
    expect(await filesOf(two.outDir)).toEqual(await filesOf(one.outDir));
    await verifyBuild(one.outDir);
    // The same documents as the reader's own grouping: ids and the text of each, token for token.
    const config = loaded.recipe.sources[0] as SourceConfig;
    const expected = new Map<string, string>();
    for await (const item of readSources([{ config, files: await expandPaths('code', config.paths, dir), baseDir: dir }]))
      if (item.kind === 'doc') expected.set(item.doc.id, item.doc.text);
    const placed = new Map<string, number>();
    for (const s of one.manifest.shards)
      for (const row of shardRows(await readFile(path.join(one.outDir, s.file)), s.file))
        row.pieceDocId.forEach((id, p) => placed.set(id, (placed.get(id) ?? 0) + row.pieceLens[p]));
    expect([...placed.keys()].sort()).toEqual([...expected.keys()].sort());
    const tokenizer = createTokenizerFromSpec(spec);
    for (const [id, text] of expected) expect(placed.get(id), id).toBe((await tokenizer.encodeDocument(text)).length);
    tokenizer.free();
    expect(one.manifest.inputs.map((i) => i.path)).toEqual(['JavaScript/train-00000-of-00002.parquet', 'JavaScript/train-00001-of-00002.parquet']);
  });
});
