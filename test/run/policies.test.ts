import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { verifyBuild } from '../../src/verify/verify.ts';
import { shardRows } from '../../src/shard/reader.ts';
import { buildInTemp, removeTempDirs, tempDir } from '../helpers/build.ts';

const SAMPLE = fileURLToPath(new URL('../../pipelines/sample.yaml', import.meta.url));
afterAll(removeTempDirs);

/** The default recipe with `edit` applied, written into a temp dir with absolute source paths. */
async function variant(edit: (recipe: Record<string, any>) => void): Promise<string> {
  const recipe = parse(await readFile(SAMPLE, 'utf8'));
  for (const s of recipe.sources) s.paths = s.paths.map((p: string) => path.resolve(path.dirname(SAMPLE), p));
  edit(recipe);
  const file = path.join(await tempDir(), 'recipe.yaml');
  await writeFile(file, stringify(recipe));
  return file;
}

async function allRows(outDir: string, manifest: { shards: { file: string }[] }) {
  const rows = [];
  for (const s of manifest.shards) rows.push(...shardRows(await readFile(path.join(outDir, s.file)), s.file));
  return rows;
}

describe('packing policies end to end (built, then verified)', () => {
  it('full attention: long rows get one position range and one doc_lens entry', async () => {
    const { outDir, manifest } = await buildInTemp(await variant((r) => (r.packing = { longRowAttention: 'full' })));
    expect(manifest.geometry.longRowAttention).toBe('full');
    await verifyBuild(outDir);
    const rows = await allRows(outDir, manifest);
    const long = rows.filter((r) => r.window === 'long');
    expect(long.length).toBe(manifest.rows.long);
    for (const r of long) {
      const used = r.pieceLens.reduce((s, n) => s + n, 0);
      expect(r.docLens).toEqual([used]);
      expect(r.positionIds[used - 1]).toBe(used - 1);
    }
    expect(long.some((r) => r.pieceLens.length > 1)).toBe(true);
  });

  it('truncate: the book longer than a row loses its tail, counted as truncated', async () => {
    const { outDir, manifest } = await buildInTemp(await variant((r) => (r.packing = { longDocPolicy: 'truncate' })));
    await verifyBuild(outDir);
    const books = manifest.sources.books.cells[0];
    expect(books.dropped.truncated.documents).toBe(1);
    expect(books.splitDocuments).toBe(0);
    expect(books.placedTokens).toBe(books.achieved.tokens - books.dropped.truncated.tokens);
    expect(manifest.totals.tokensDropped.truncated).toBe(books.dropped.truncated.tokens);
  });

  it('filler: long rows take short web documents; padding falls', async () => {
    const plain = await buildInTemp(SAMPLE);
    const { outDir, manifest } = await buildInTemp(await variant((r) => (r.packing = { longRowFiller: 'web' })));
    await verifyBuild(outDir);
    expect(manifest.sources.web.cells[0].fillerTokens).toBeGreaterThan(0);
    expect(manifest.rows.padTokens).toBeLessThan(plain.manifest.rows.padTokens);
    const rows = await allRows(outDir, manifest);
    expect(rows.some((r) => r.window === 'long' && r.pieceSource.includes('web'))).toBe(true);
  });

  it('lastBatchPolicy fill raises the budgets until whole global batches are packed; drop counts the rest', async () => {
    const lower = (r: Record<string, any>) => {
      r.sources[0].budgetTokens = 2000; // web
      r.sources[3].budgetTokens = 5000; // papers
    };
    const dropped = await buildInTemp(await variant(lower));
    // 11 rows in batches of 4: 8 kept, 3 dropped and counted.
    expect(dropped.manifest.rows).toMatchObject({ total: 8, dropped: { rows: 3, policy: 'drop' } });
    const filled = await buildInTemp(await variant((r) => (lower(r), (r.output.lastBatchPolicy = 'fill'))));
    await verifyBuild(filled.outDir);
    // A raise that packs 12 rows (3 whole batches), shared in proportion to the plans, 2 : 5: the
    // smallest is 4,509 tokens; the search stops within rowTokens/64 = 64 tokens of it, at 4,544,
    // so web gets 1,299 and papers 3,246.
    expect(filled.manifest.rows).toMatchObject({ total: 12, dropped: { rows: 0, tokens: 0, policy: 'fill' } });
    expect([filled.manifest.sources.web.cells[0].raisedTokens, filled.manifest.sources.papers.cells[0].raisedTokens]).toEqual([1299, 3246]);
    expect(filled.manifest.totals.tokensDropped.last_batch).toBe(0);
  });

  it('repetition: a budget above availability is met with marked repeats when maxRepetition allows it', async () => {
    const { outDir, manifest } = await buildInTemp(await variant((r) => Object.assign(r.sources[1], { budgetTokens: 6000, maxRepetition: 2 })));
    await verifyBuild(outDir);
    const edu = manifest.sources.edu.cells[0];
    expect(edu.achieved.tokens).toBeGreaterThanOrEqual(6000);
    expect(edu.repeatedTokens).toBe(edu.achieved.tokens - 3729);
    const rows = await allRows(outDir, manifest);
    expect(rows.flatMap((r) => r.pieceRepeat).filter((x) => x === 1).length).toBeGreaterThan(0);
  });
});
