/**
 * Budgets under `longDocPolicy: truncate` count the tokens that will be placed, in `plan` and in
 * the build alike (issue 10 item 19: `plan` said ok and the build placed far less than the
 * budget, dropping usable documents as over budget).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/config/load.ts';
import { buildMix } from '../../src/run/build.ts';
import { planRecipe } from '../../src/run/plan.ts';
import { verifyBuild } from '../../src/verify/verify.ts';
import { llama3Spec, removeTempDirs, tempDir } from '../helpers/build.ts';

afterAll(removeTempDirs);

/**
 * Ten documents of 102 tokens ("a" + 99 × " a", BOS and EOS), a long source over rows of 64
 * tokens, truncated: each document places 64 tokens and drops 38.
 */
async function recipe(budgetTokens: number): Promise<string> {
  const dir = await tempDir();
  const text = 'a' + ' a'.repeat(99);
  await writeFile(path.join(dir, 'long.jsonl'), Array.from({ length: 10 }, () => JSON.stringify({ text })).join('\n') + '\n');
  const file = path.join(dir, 'recipe.yaml');
  await writeFile(
    file,
    [
      'name: truncate',
      'originalWindowTokens: 16',
      'rowTokens: 64',
      'packing: { longDocPolicy: truncate }',
      'output: { worldSize: 1, globalBatchRows: 1 }',
      'sources:',
      `  - { name: books, format: jsonl, paths: [long.jsonl], window: long, budgetTokens: ${budgetTokens}, lengthTokens: { min: 17, max: 1000 } }`,
      '',
    ].join('\n'),
  );
  return file;
}

describe('longDocPolicy truncate', () => {
  it('a budget of 600 places 640 tokens (10 documents), not 384 (6 documents counted at 102)', async () => {
    const loaded = await loadRecipe(await recipe(600));
    const plan = await planRecipe(loaded, 1, await llama3Spec());
    expect(plan.cells.map((c) => [c.availableTokens, c.availableDocuments, c.problem])).toEqual([[640, 10, null]]);
    const { outDir, manifest } = await buildMix({ loaded, outDir: await tempDir(), workers: 1, tokenizerSpec: await llama3Spec() });
    const [cell] = manifest.sources.books.cells;
    expect(cell.placedTokens).toBe(640);
    expect(cell.placedTokens).toBeGreaterThanOrEqual(600);
    expect(cell.achieved).toEqual({ documents: 10, tokens: 1020 });
    expect(cell.dropped).toEqual({
      over_budget: { documents: 0, tokens: 0 },
      truncated: { documents: 10, tokens: 380 },
      last_batch: { documents: 0, tokens: 0 },
    });
    // The ledger: read 1,020 = placed 640 − repeated 0 + truncated 380 + over budget 0.
    expect(manifest.sources.books.read).toEqual({ documents: 10, tokens: 1020 });
    expect(manifest.rows).toMatchObject({ total: 10, padTokens: 0, truncatedPieces: 10 });
    await expect(verifyBuild(outDir)).resolves.toMatchObject({ rows: 10, tokens: 640 });
  });

  it('plan and build refuse a budget above the tokens rows can hold (700 > 640), naming the truncation', async () => {
    const loaded = await loadRecipe(await recipe(700));
    const message =
      'Budget for source "books" bucket "17-1000" (17..1000 tokens): planned 700 tokens, but only 640 tokens in 10 documents are available (counted as placed: documents truncated at 64 tokens); shortfall 60 tokens. Lower the budget to 640 or set maxRepetition for "books" to 1.1.';
    const plan = await planRecipe(loaded, 1, await llama3Spec());
    expect(plan.cells[0].problem?.message).toBe(message);
    await expect(buildMix({ loaded, outDir: await tempDir(), workers: 1, tokenizerSpec: await llama3Spec() })).rejects.toThrow(message);
  });
});
