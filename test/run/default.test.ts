import { cp, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stableStringify } from '../../src/core/stableJson.ts';
import { inspectBuild } from '../../src/cli/inspect.ts';
import { verifyBuild } from '../../src/verify/verify.ts';
import { shardRows } from '../../src/shard/reader.ts';
import { ShardWriter } from '../../src/shard/writer.ts';
import { shardSchema } from '../../src/shard/schema.ts';
import { buildInTemp, filesOf, removeTempDirs, tempDir } from '../helpers/build.ts';

const SAMPLE = fileURLToPath(new URL('../../pipelines/sample.yaml', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../../manifests/sample.json', import.meta.url));

afterAll(removeTempDirs);

describe('the embedded default build (pipelines/sample.yaml)', () => {
  it('is byte-identical with 1 and 2 workers, matches the committed manifest, and verifies', async () => {
    const one = await buildInTemp(SAMPLE, 1);
    const two = await buildInTemp(SAMPLE, 2);
    const a = await filesOf(one.outDir);
    const b = await filesOf(two.outDir);
    expect(Object.keys(a)).toEqual(['manifest.json', 'report.html', ...one.manifest.shards.map((sh) => sh.file)]);
    expect(one.manifest.shards.map((sh) => sh.file)).toEqual(
      [0, 1, 2, 3].map((i) => expect.stringMatching(new RegExp(`^shard-0000${i}-[0-9a-f]{8}\\.arrow$`))),
    );
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const name of Object.keys(a)) expect(b[name].equals(a[name]), name).toBe(true);
    // The committed manifest pins every shard's sha256: this proves the build reproduces here.
    // If a change of code changes it, regenerate manifests/sample.json in the same commit and say why.
    expect(a['manifest.json'].toString('utf8')).toBe(await readFile(GOLDEN, 'utf8'));
    expect(await verifyBuild(one.outDir)).toEqual({
      shards: 4,
      rows: one.manifest.rows.total,
      tokens: one.manifest.rows.tokens,
      padTokens: one.manifest.rows.padTokens,
    });
  });

  it('gives the same output wherever the recipe and its data sit (document ids hold no machine paths)', async () => {
    // CI clones the repository to a path of its own; ids relative to the recipe made the seeded
    // order, and so the rows, depend on where the clone and the temp dir were.
    const yaml = await readFile(SAMPLE, 'utf8');
    const data = fileURLToPath(new URL('../../data/sample', import.meta.url));
    // The same recipe file and a copy of its data, moved together elsewhere: every byte is the same.
    const moved = await tempDir();
    await cp(data, path.join(moved, 'data', 'sample'), { recursive: true });
    await mkdir(path.join(moved, 'pipelines'));
    await writeFile(path.join(moved, 'pipelines', 'sample.yaml'), yaml);
    // The recipe alone, deeper, naming the data by absolute paths: another recipe (its hash is in
    // the shards' metadata), but the same rows.
    const deep = path.join(await tempDir(), 'a', 'b', 'c');
    await mkdir(deep, { recursive: true });
    await writeFile(path.join(deep, 'recipe.yaml'), yaml.replaceAll('../data/sample', data));
    const here = await buildInTemp(SAMPLE);
    const there = await buildInTemp(path.join(moved, 'pipelines', 'sample.yaml'));
    const absolute = await buildInTemp(path.join(deep, 'recipe.yaml'));
    const a = await filesOf(here.outDir);
    const b = await filesOf(there.outDir);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const name of Object.keys(a)) expect(b[name].equals(a[name]), name).toBe(true);
    const rowsOf = async (build: typeof here) => {
      const rows = [];
      for (const s of build.manifest.shards) rows.push(...shardRows(await readFile(path.join(build.outDir, s.file)), s.file));
      return rows;
    };
    const expected = await rowsOf(here);
    expect(expected).toHaveLength(28);
    expect(await rowsOf(absolute)).toEqual(expected);
    expect(absolute.manifest.sources).toEqual(here.manifest.sources);
    expect(absolute.manifest.schedule).toEqual(here.manifest.schedule);
  });

  it('inspect lists the shards and shows a row: pieces, ids, decoded ends, padding', async () => {
    const { outDir, manifest } = await buildInTemp(SAMPLE);
    const [s0, , s2] = manifest.shards.map((sh) => sh.file);
    expect((await inspectBuild(outDir)).split('\n').slice(0, 3)).toEqual([
      `${outDir}: 28 rows (short 6, long 22) in 4 shards; row 4,096 tokens, window 512`,
      'schedule: 7 steps of 4 rows over 2 ranks; 0 rows dropped (last batch)',
      `  ${s0}: rank 0, 7 rows (short 2, long 5), 28,431 tokens + 241 padding, 241,120 bytes`,
    ]);
    // A long row of two code files closed by an 11-token edu document (longRowFiller).
    expect(await inspectBuild(outDir, 7)).toBe(
      [
        `row 7 (${s2} row 3, step 1, rank 1): window long, 3 pieces, doc_lens [2240, 1839, 11], 6 padding tokens`,
        '  piece 0: tokens [0, 2240) source code doc code.jsonl.zst:12 part 1/1 from doc token 0, 2240 tokens',
        '    first: "<|begin_of_text|>        attention_narrow = pack("',
        '    last:  "(116348, \\"in\\")\\n<|end_of_text|>"',
        '  piece 1: tokens [2240, 4079) source code doc code.jsonl.zst:3 part 1/1 from doc token 0, 1839 tokens',
        '    first: "<|begin_of_text|>        journey_that = pack(296"',
        '    last:  "(78791, \\"were\\")\\n<|end_of_text|>"',
        '  piece 2: tokens [4079, 4090) source edu doc edu.parquet#27 part 1/1 from doc token 0, 11 tokens',
        '    first: "<|begin_of_text|>And corpus length certain question carries stranger"',
        '    last:  " length certain question carries stranger keeps.<|end_of_text|>"',
        '  padding: tokens [4090, 4096) id 128004',
      ].join('\n'),
    );
    await expect(inspectBuild(outDir, 28)).rejects.toThrow('row 28 does not exist; rows are 0..27');
  });

  it('accounts for every token read: placed + dropped per source, padding per row', async () => {
    const { manifest } = await buildInTemp(SAMPLE, 2);
    for (const [name, s] of Object.entries(manifest.sources)) {
      const sum = (f: (c: (typeof s.cells)[number]) => number) => s.cells.reduce((t, c) => t + f(c), 0);
      expect(
        s.placed.tokens +
          s.dropped.too_short.tokens +
          s.dropped.too_long.tokens +
          s.dropped.outside_buckets.tokens +
          sum((c) => c.dropped.over_budget.tokens + c.dropped.last_batch.tokens),
        name,
      ).toBe(s.read.tokens);
      expect(
        sum((c) => c.achieved.tokens - c.dropped.last_batch.tokens),
        name,
      ).toBe(s.placed.tokens);
      for (const cell of s.cells) if (cell.plannedTokens !== 'all') expect(cell.achieved.tokens).toBeGreaterThanOrEqual(cell.plannedTokens);
    }
    expect(manifest.rows.tokens + manifest.rows.padTokens).toBe(manifest.rows.total * 4096);
    // The paper's mix in small: 28 rows, 7 whole global batches of 4 (22 long, 6 short), nothing
    // dropped from the last batch, padding 266 tokens (0.23%): filler closes the long rows' gaps.
    expect(manifest.rows).toMatchObject({ total: 28, long: 22, short: 6, padTokens: 266, dropped: { rows: 0, tokens: 0, policy: 'fill' } });
    expect(manifest.totals.tokensDropped).toEqual({ too_short: 1133, too_long: 1353, outside_buckets: 0, over_budget: 24456, truncated: 0, last_batch: 0 });
    expect(manifest.schedule).toMatchObject({ worldSize: 2, globalBatchRows: 4, steps: 7 });
    expect(manifest.rows.tokens).toBe(manifest.totals.tokensPlaced);
    expect(manifest.geometry.longRowFiller).toBe('edu');
    expect(manifest.sources.edu.cells[0].fillerTokens).toBe(4810);
    // Every length range of the sample geometry occurs: short documents, short pages of a long
    // source and short-source documents too long for the window (dropped), long documents in two
    // buckets (3 : 4), and a book longer than a row (split).
    expect(manifest.sources.web.dropped.too_short.documents).toBe(6);
    // One web page is too short by its length in bytes alone: never tokenized, counted.
    expect(manifest.sources.web.prefiltered).toEqual({ documents: 1, bytes: 290 });
    expect(manifest.sources.edu.dropped.too_long.documents).toBe(2);
    expect(manifest.sources.web.cells[0].dropped.over_budget.documents).toBeGreaterThan(0);
    expect(manifest.sources.papers.cells.map((c) => [c.bucket, c.plannedTokens])).toEqual([
      ['mid', 10285],
      ['long', 13715],
    ]);
    expect(manifest.sources.books.cells[0].splitDocuments).toBe(1);
    expect(manifest.inputs.map((i) => i.path)).toEqual([
      '../data/sample/papers/papers.jsonl',
      '../data/sample/books/long-book.txt',
      '../data/sample/books/short-book.txt',
      '../data/sample/web/pages.jsonl',
      '../data/sample/web/pages.jsonl.gz',
      '../data/sample/code/code.jsonl.zst',
      '../data/sample/edu/edu.parquet',
    ]);
  });
});

describe('verify', () => {
  it('names the shard when a shard byte changes', async () => {
    const { outDir, manifest } = await buildInTemp(SAMPLE, 2);
    const name = manifest.shards[1].file;
    const file = path.join(outDir, name);
    const bytes = await readFile(file);
    bytes[bytes.length - 100] ^= 1;
    await writeFile(file, bytes);
    await expect(verifyBuild(outDir)).rejects.toThrow(new RegExp(`^${name}: sha256 [0-9a-f]{64} differs from the manifest's`));
  });

  it('names the shard and row when a row breaks an invariant even though checksums were updated', async () => {
    const { outDir } = await buildInTemp(SAMPLE, 2);
    const manifestFile = path.join(outDir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    const shard = manifest.shards[1];
    const rowIds = manifest.schedule.positions.flatMap(([s]: [number, number], p: number) => (s === 1 ? [p] : []));
    const rows = [...shardRows(await readFile(path.join(outDir, shard.file)), shard.file)].map((r) => ({
      ...r,
      inputIds: r.inputIds.slice(),
      positionIds: r.positionIds.slice(),
    }));
    rows[2].positionIds[5] = 99; // the shard's third row: piece 0's position 5 is now wrong
    const writer = new ShardWriter(path.join(outDir, `${shard.file}.tmp`), shard.file, shardSchema(4096, {}), 4096, shard.rank, {
      vocabSize: manifest.tokenizer.vocabSize,
    });
    writer.write(rows);
    Object.assign(shard, await writer.close());
    await rename(path.join(outDir, `${shard.file}.tmp`), path.join(outDir, shard.file));
    await writeFile(manifestFile, stableStringify(manifest));
    await expect(verifyBuild(outDir)).rejects.toThrow(`${shard.file} row ${rowIds[2]}: position_ids[5] is 99, expected 5 (piece 0)`);
  });

  it('checks per-source totals against the rows', async () => {
    const { outDir } = await buildInTemp(SAMPLE, 2);
    const manifestFile = path.join(outDir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    manifest.sources.code.placed.tokens += 1;
    await writeFile(manifestFile, stableStringify(manifest));
    await expect(verifyBuild(outDir)).rejects.toThrow('manifest.json: tokens placed for source "code": shards hold');
  });

  it('refuses a schedule that names a row twice, a row past a shard, or counts that are not integers', async () => {
    const { outDir, manifest: built } = await buildInTemp(SAMPLE, 2);
    const manifestFile = path.join(outDir, 'manifest.json');
    const tampered = async (edit: (m: Record<string, any>) => void) => {
      const manifest = structuredClone(built) as Record<string, any>;
      edit(manifest);
      await writeFile(manifestFile, stableStringify(manifest));
      return verifyBuild(outDir);
    };
    const twice = built.schedule.positions.findIndex(([shard, row]) => shard === 1 && row === 0);
    await expect(tampered((m) => (m.schedule.positions[0] = [1, 0]))).rejects.toThrow(
      `manifest.json: schedule positions 0 and ${twice} both name row 0 of ${built.shards[1].file}`,
    );
    await expect(tampered((m) => (m.schedule.positions[0] = [0, 7]))).rejects.toThrow(
      `manifest.json: schedule position 0 names row 7 of ${built.shards[0].file}, which has 7 rows`,
    );
    await expect(tampered((m) => (m.schedule.positions[0] = [0]))).rejects.toThrow(
      'manifest.json: schedule.positions[0] must be [shard index, row index], got [0]',
    );
    await expect(tampered((m) => (m.rows.total = '12'))).rejects.toThrow('manifest.json: rows.total must be an integer >= 0, got "12"');
  });

  it('a truncated shard is an error naming the file, for verify and inspect alike', async () => {
    const { outDir, manifest } = await buildInTemp(SAMPLE, 2);
    const name = manifest.shards[1].file;
    const file = path.join(outDir, name);
    const bytes = await readFile(file);
    expect(() => [...shardRows(bytes.subarray(0, 60_000), name)]).toThrow(
      new RegExp(`^${name}: record batch 0 cannot be read \\(truncated or damaged Arrow IPC stream\\)`),
    );
    await writeFile(file, bytes.subarray(0, 60_000));
    const inShard1 = manifest.schedule.positions.findIndex(([s]) => s === 1);
    await expect(inspectBuild(outDir, inShard1)).rejects.toThrow(new RegExp(`^${name}: record batch 0 cannot be read`));
    await expect(verifyBuild(outDir)).rejects.toThrow(`${name}: size 60000 bytes, manifest says`);
  });

  it('refuses a manifest whose shard entries leave the build directory', async () => {
    const { outDir } = await buildInTemp(SAMPLE, 2);
    const manifestFile = path.join(outDir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    manifest.shards[0].file = '../elsewhere/shard-00000.arrow';
    await writeFile(manifestFile, stableStringify(manifest));
    await expect(verifyBuild(outDir)).rejects.toThrow('shards[0] must name a shard-NNNNN-<build>.arrow file in the build directory');
  });

  it('refuses a directory without a manifest', async () => {
    await expect(verifyBuild(path.dirname(GOLDEN) + '/no-such-build')).rejects.toThrow(/no manifest; .* is not a finished longmix build/);
  });
});
