import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/config/load.ts';
import { recipeCells } from '../../src/config/cells.ts';

const recipe = (name: string) => fileURLToPath(new URL(`../../pipelines/${name}`, import.meta.url));
const cellsOf = async (name: string, scale?: number) =>
  recipeCells((await loadRecipe(recipe(name), { scale })).recipe).map((c) => [c.source, c.bucket, c.window, c.min, c.max, c.plannedTokens]);

// The shipped LongRoPE2 recipes (paper §4.1 and Table 1), checked cell by cell: 10B tokens each.
describe('shipped LongRoPE2 recipes', () => {
  it('longrope2-llama3: §4.1 per-source budgets, each split 3 : 4 over 8k-100k and 100k-200k', async () => {
    expect(await cellsOf('longrope2-llama3.yaml')).toEqual([
      ['rpv1', '8k-100k', 'long', 8193, 100_000, 1_928_571_428], // floor(4.5e9 x 3/7)
      ['rpv1', '100k-200k', 'long', 100_001, 200_000, 2_571_428_572],
      ['rpv2', '8k-100k', 'long', 8193, 100_000, 1_071_428_571],
      ['rpv2', '100k-200k', 'long', 100_001, 200_000, 1_428_571_429],
      ['starcoder', '8k-100k', 'long', 8193, 100_000, 857_142_857],
      ['starcoder', '100k-200k', 'long', 100_001, 200_000, 1_142_857_143],
      ['fineweb-edu', '2-8192', 'short', 2, 8192, 1_000_000_000],
    ]);
    const loaded = await loadRecipe(recipe('longrope2-llama3.yaml'));
    expect(loaded.recipe).toMatchObject({
      rowTokens: 131_072,
      originalWindowTokens: 8192,
      tokenizer: 'llama3',
      output: { worldSize: 64, globalBatchRows: 64 },
    });
  });

  it('longrope2-llama3-table1: 3B short, 3B 8k-100k, 4B 100k-200k', async () => {
    const cells = await cellsOf('longrope2-llama3-table1.yaml');
    const total = (bucket: string) => cells.filter((c) => c[1] === bucket).reduce((s, c) => s + (c[5] as number), 0);
    expect([total('2-8192'), total('8k-100k'), total('100k-200k')]).toEqual([3e9, 3e9, 4e9]);
  });

  it('longrope2-phi3: original window 2,048, the Phi-3 vocabulary, long documents above 2,048', async () => {
    const loaded = await loadRecipe(recipe('longrope2-phi3.yaml'));
    expect(loaded.recipe).toMatchObject({ tokenizer: 'phi3', originalWindowTokens: 2048, rowTokens: 131_072 });
    expect((await cellsOf('longrope2-phi3.yaml')).map((c) => [c[0], c[3], c[4]])).toEqual([
      ['rpv1', 2049, 100_000],
      ['rpv1', 100_001, 200_000],
      ['rpv2', 2049, 100_000],
      ['rpv2', 100_001, 200_000],
      ['starcoder', 2049, 100_000],
      ['starcoder', 100_001, 200_000],
      ['fineweb-edu', 2, 2048],
    ]);
  });

  it('--scale runs the same recipe on a sample: 1/10,000 of every budget', async () => {
    // Source budgets scale first (4.5e9 x 1e-4 = 450,000), then split 3 : 4 with the rest to the last bucket.
    expect((await cellsOf('longrope2-llama3.yaml', 1e-4)).map((c) => c[5])).toEqual([192_857, 257_143, 107_142, 142_858, 85_714, 114_286, 100_000]);
  });
});
