import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/config/load.ts';
import { lengthCensusOf, readLengthCensus, writeLengthCensus } from '../../src/census/lengthCensus.ts';
import { planRecipe } from '../../src/run/plan.ts';
import { formatPlan } from '../../src/cli/plan.ts';
import { InputError } from '../../src/core/errors.ts';
import { simulateCensusPacking } from '../../bench/packing.ts';
import { llama3Spec, removeTempDirs, tempDir } from '../helpers/build.ts';

afterAll(removeTempDirs);

const SAMPLE = fileURLToPath(new URL('../../pipelines/sample.yaml', import.meta.url));

describe('plan', () => {
  it('reports planned vs available per cell and meets every plan of the default recipe', async () => {
    const report = await planRecipe(await loadRecipe(SAMPLE), 2, await llama3Spec());
    expect(report.cells.map((c) => [c.cell.source, c.cell.bucket, c.cell.plannedTokens, c.availableTokens, c.availableDocuments, c.problem])).toEqual([
      ['papers', 'mid', 10285, 11736, 9, null],
      ['papers', 'long', 13715, 27171, 9, null],
      ['books', '513-16384', 'all', 9824, 2, null],
      ['web', '513-16384', 24000, 31811, 17, null],
      ['code', '513-16384', 'all', 24003, 12, null],
      ['edu', '2-512', 29000, 34333, 198, null],
    ]);
    expect(formatPlan(report, 'sample').ok).toBe(true);
  });

  it('names each cell that cannot be met, its shortfall and the fix, when --scale raises the budgets', async () => {
    const report = await planRecipe(await loadRecipe(SAMPLE, { scale: 3 }), 2, await llama3Spec());
    const { text, ok } = formatPlan(report, 'sample');
    expect(ok).toBe(false);
    expect(text).toContain(
      'Budget for source "papers" bucket "long" (2049..16384 tokens): planned 41143 tokens, but only 27171 tokens in 9 documents are available; shortfall 13972 tokens. Lower the budget to 27171 or set maxRepetition for "papers" to 1.52.',
    );
    expect(report.cells.filter((c) => c.problem).map((c) => `${c.cell.source} ${c.cell.bucket}`)).toEqual([
      'papers mid',
      'papers long',
      'web 513-16384',
      'edu 2-512',
    ]);
  });

  it('writes a length census that pnpm bench --lengths reads back and packs', async () => {
    const loaded = await loadRecipe(SAMPLE);
    const report = await planRecipe(loaded, 2, await llama3Spec());
    const file = path.join(await tempDir(), 'census.json');
    await writeLengthCensus(file, lengthCensusOf(loaded, report));
    const census = await readLengthCensus(file);
    expect(census).toMatchObject({
      format: 'longmix-length-census/1',
      recipe: 'sample',
      recipeHash: loaded.hash,
      rowTokens: 4096,
      originalWindowTokens: 512,
      longRowFiller: 'edu',
    });
    // Every in-range document, per cell: the counts and sums the plan reported.
    expect(census.cells.map((c) => [c.source, c.lengthTokens.length, c.lengthTokens.reduce((s, n) => s + n, 0)])).toEqual(
      report.cells.map((c) => [c.cell.source, c.availableDocuments, c.availableTokens]),
    );
    // (the planning time at the end of the filler lines is the one figure that varies)
    const lines = simulateCensusPacking(census, 'census.json', 1, 64).map((l) => l.replace(/ \(planned in \d+\.\d\d s\)$/, ''));
    // Budgets resampled seeded from the census and packed by the real planner: exact figures.
    expect(lines).toEqual([
      'packing on real lengths: recipe "sample" census census.json (247 documents), budgets x 1, 216 documents resampled; row 4,096, window 512, buffer 64 rows',
      '  filler none: 31 rows (23 long), padding 8.435% of row tokens',
      "    padding by cell of each row's longest piece (share of all row tokens): papers mid 2.159%, papers long 1.342%, books 513-16384 0.358%, web 513-16384 1.352%, code 513-16384 0.411%, edu 2-512 2.813%",
      '  filler edu: 29 rows (23 long), padding 2.121% of row tokens',
      "    padding by cell of each row's longest piece (share of all row tokens): papers mid 0.001%, papers long 0.012%, books 513-16384 0.003%, web 513-16384 0.013%, code 513-16384 0.010%, edu 2-512 2.081%",
    ]);
  });

  it('refuses a census file that is not one, naming the file and the key', async () => {
    const dir = await tempDir();
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, '{"format": "longmix-length-census/1"');
    await expect(readLengthCensus(bad)).rejects.toThrow(new RegExp(`^${bad}: cannot read a length census: `));
    const good = path.join(dir, 'good.json');
    const loaded = await loadRecipe(SAMPLE);
    await writeLengthCensus(
      good,
      lengthCensusOf(loaded, {
        cells: [{ cell: { source: 'web', bucket: '2-512', min: 2, max: 512, plannedTokens: 10, window: 'short', maxRepetition: 1 }, lengthTokens: [2, 3] }],
      }),
    );
    const census = JSON.parse(await readFile(good, 'utf8'));
    await writeFile(bad, JSON.stringify({ ...census, rowTokens: -1 }));
    await expect(readLengthCensus(bad)).rejects.toThrow('rowTokens: Too small');
    await writeFile(bad, JSON.stringify({ ...census, originalWindowTokens: 64, rowTokens: 64 }));
    await expect(readLengthCensus(bad)).rejects.toThrow(`${bad}: originalWindowTokens 64 must be less than rowTokens 64`);
    await writeFile(bad, JSON.stringify({ ...census, cells: [{ ...census.cells[0], lengthTokens: [] }] }));
    await expect(readLengthCensus(bad)).rejects.toThrow(`${bad}: no cell holds a document length; nothing to pack`);
    census.cells[0].lengthTokens[1] = 600;
    await writeFile(bad, JSON.stringify(census));
    await expect(readLengthCensus(bad)).rejects.toThrow(InputError);
    await expect(readLengthCensus(bad)).rejects.toThrow(`${bad}: cells.0.lengthTokens.1: 600 is outside the cell's range [2, 512]`);
  });
});
