/**
 * Copies of a document (uses under maxRepetition > 1) in real builds: the sample recipe with
 * edu `maxRepetition: 2` and a budget above what edu holds, so that edu documents are used twice.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Recipe } from '../../src/config/schema.ts';
import { stableStringify } from '../../src/core/stableJson.ts';
import { verifyBuild } from '../../src/verify/verify.ts';
import { removeTempDirs } from '../helpers/build.ts';
import { buildVariant, rowsOf } from '../helpers/variant.ts';

const SAMPLE = fileURLToPath(new URL('../../pipelines/sample.yaml', import.meta.url));

afterAll(removeTempDirs);

/** edu holds 34,333 tokens: a budget of 60,000 takes most of its documents twice. */
const eduTwice =
  (packing: Partial<Recipe['packing']> = {}) =>
  (recipe: Recipe) => {
    const edu = recipe.sources.find((s) => s.name === 'edu')!;
    edu.maxRepetition = 2;
    edu.budgetTokens = 60_000;
    Object.assign(recipe.packing, packing);
  };

/** Per row: the documents it holds in more than one use. */
function rowsWithCopies(rows: Awaited<ReturnType<typeof rowsOf>>): number[] {
  return rows.flatMap(({ row }) => {
    const useOf = new Map<string, number>();
    let copies = false;
    row.pieceDocId.forEach((id, p) => {
      const key = `${row.pieceSource[p]} ${id}`;
      if (useOf.has(key) && useOf.get(key) !== row.pieceRepeat[p]) copies = true;
      useOf.set(key, row.pieceRepeat[p]);
    });
    return copies ? [row.rowId] : [];
  });
}

/** Rewrites the manifest's resolved packing options (verify reads them there). */
async function setPacking(outDir: string, packing: Record<string, unknown>): Promise<void> {
  const file = path.join(outDir, 'manifest.json');
  const manifest = JSON.parse(await readFile(file, 'utf8'));
  Object.assign(manifest.recipe.resolved.packing, packing);
  await writeFile(file, stableStringify(manifest));
}

describe('copies of a document', () => {
  it('never share a row by default (filler included), and verify passes', async () => {
    const { outDir, manifest } = await buildVariant(SAMPLE, eduTwice());
    expect(manifest.totals.tokensRepeated).toBeGreaterThan(10_000);
    const rows = await rowsOf(outDir, manifest);
    expect(rowsWithCopies(rows)).toEqual([]);
    // edu fills long rows (longRowFiller) as well as making short rows: both kinds hold edu uses 1.
    expect(new Set(rows.filter(({ row }) => row.pieceRepeat.includes(1)).map(({ row }) => row.window))).toEqual(new Set(['short', 'long']));
    await expect(verifyBuild(outDir)).resolves.toMatchObject({ rows: manifest.rows.total });
  });

  it('share rows when the recipe allows it; verify then refuses those rows under the default', async () => {
    const { outDir, manifest } = await buildVariant(SAMPLE, eduTwice({ allowCopiesInRow: true }));
    const rows = await rowsOf(outDir, manifest);
    const shared = rowsWithCopies(rows);
    expect(shared.length).toBeGreaterThan(3);
    await expect(verifyBuild(outDir)).resolves.toMatchObject({ rows: manifest.rows.total });
    await setPacking(outDir, { allowCopiesInRow: false });
    const first = rows.find(({ row }) => row.rowId === Math.min(...shared))!;
    await expect(verifyBuild(outDir)).rejects.toThrow(
      new RegExp(`^${first.shard} row ${first.row.rowId}: holds copies 0 and 1 of edu .* \\(packing\\.allowCopiesInRow is false\\)$`),
    );
  });

  it('keep repeatSpacingRows apart in the training order; verify checks the distance', async () => {
    const { outDir, manifest } = await buildVariant(SAMPLE, eduTwice({ repeatSpacingRows: 3 }));
    const rows = await rowsOf(outDir, manifest);
    const at = new Map<string, [number, number][]>();
    for (const { row } of rows)
      row.pieceDocId.forEach((id, p) =>
        at.set(`${row.pieceSource[p]} ${id}`, [...(at.get(`${row.pieceSource[p]} ${id}`) ?? []), [row.rowId, row.pieceRepeat[p]]]),
      );
    let nearest = Infinity;
    for (const uses of at.values()) for (const [r1, u1] of uses) for (const [r2, u2] of uses) if (u1 !== u2) nearest = Math.min(nearest, Math.abs(r1 - r2));
    expect(nearest).toBeGreaterThan(3);
    expect(nearest).toBeLessThan(10);
    await expect(verifyBuild(outDir)).resolves.toMatchObject({ rows: manifest.rows.total });
    await setPacking(outDir, { repeatSpacingRows: 10 });
    await expect(verifyBuild(outDir)).rejects.toThrow(/ rows after copy [01] in row \d+; packing\.repeatSpacingRows is 10$/);
  });
});
