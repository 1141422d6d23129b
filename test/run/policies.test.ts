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

  it('filler: long rows take short edu documents; padding falls', async () => {
    const without = await buildInTemp(await variant((r) => delete r.packing.longRowFiller));
    const { outDir, manifest } = await buildInTemp(SAMPLE);
    await verifyBuild(outDir);
    expect(without.manifest.sources.edu.cells[0].fillerTokens).toBe(0);
    expect(manifest.sources.edu.cells[0].fillerTokens).toBeGreaterThan(0);
    expect(manifest.rows.padTokens).toBeLessThan(without.manifest.rows.padTokens);
    const rows = await allRows(outDir, manifest);
    expect(rows.some((r) => r.window === 'long' && r.pieceSource.includes('edu'))).toBe(true);
  });

  it('lastBatchPolicy fill raises the budgets until whole global batches are packed; drop counts the rest', async () => {
    const edu = (r: Record<string, any>) => r.sources.find((s: { name: string }) => s.name === 'edu');
    const raiseEdu = (r: Record<string, any>) => (edu(r).budgetTokens = 30000);
    const dropped = await buildInTemp(await variant((r) => (raiseEdu(r), (r.output.lastBatchPolicy = 'drop'))));
    // 29 rows in batches of 4: 28 kept, 1 dropped and counted.
    expect(dropped.manifest.rows).toMatchObject({ total: 28, dropped: { rows: 1, policy: 'drop' } });
    expect(dropped.manifest.totals.tokensDropped.last_batch).toBe(dropped.manifest.rows.dropped.tokens);
    const filled = await buildInTemp(await variant(raiseEdu));
    await verifyBuild(filled.outDir);
    // A raise that packs 32 rows (8 whole batches), shared in proportion to the plans
    // (papers 10,285 + 13,715, web 24,000, edu 30,000), each capped by what its cell holds:
    // papers mid (11,736 available) and edu (34,333) reach their caps.
    expect(filled.manifest.rows).toMatchObject({ total: 32, dropped: { rows: 0, tokens: 0, policy: 'fill' } });
    const raised = Object.fromEntries(Object.entries(filled.manifest.sources).map(([name, a]) => [name, a.cells.map((c) => c.raisedTokens)]));
    expect(raised).toEqual({ papers: [1451, 2018], books: [0], web: [3530], code: [0], edu: [4333] });
    expect(filled.manifest.totals.tokensDropped.last_batch).toBe(0);
  });

  it('repetition: a budget above availability is met with marked repeats when maxRepetition allows it', async () => {
    const { outDir, manifest } = await buildInTemp(
      await variant((r) =>
        Object.assign(
          r.sources.find((s: { name: string }) => s.name === 'edu'),
          { budgetTokens: 40000, maxRepetition: 2 },
        ),
      ),
    );
    await verifyBuild(outDir);
    const edu = manifest.sources.edu.cells[0];
    expect(edu.achieved.tokens).toBeGreaterThanOrEqual(40000);
    expect(edu.repeatedTokens).toBe(edu.achieved.tokens - 34333);
    const rows = await allRows(outDir, manifest);
    expect(rows.flatMap((r) => r.pieceRepeat).filter((x) => x === 1).length).toBeGreaterThan(0);
  });
});
