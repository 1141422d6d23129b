import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/config/load.ts';
import { planRecipe } from '../../src/build/plan.ts';
import { formatPlan } from '../../src/cli/plan.ts';
import { llama3Spec } from '../helpers/build.ts';

const SAMPLE = fileURLToPath(new URL('../../pipelines/sample.yaml', import.meta.url));

describe('plan', () => {
  it('reports planned vs available per cell and meets every plan of the default recipe', async () => {
    const report = await planRecipe(await loadRecipe(SAMPLE), 2, await llama3Spec());
    expect(report.cells.map((c) => [c.cell.source, c.cell.bucket, c.cell.plannedTokens, c.availableTokens, c.availableDocuments, c.problem])).toEqual([
      ['web', '2-512', 5000, 6917, 40, null],
      ['edu', '2-512', 'all', 3729, 20, null],
      ['code', '513-8192', 'all', 14183, 6, null],
      ['papers', '513-8192', 10000, 12897, 8, null],
      ['books', '513-16384', 'all', 9823, 2, null],
    ]);
    expect(formatPlan(report, 'sample').ok).toBe(true);
  });

  it('names each cell that cannot be met, its shortfall and the fix, when --scale raises the budgets', async () => {
    const report = await planRecipe(await loadRecipe(SAMPLE, { scale: 3 }), 2, await llama3Spec());
    const { text, ok } = formatPlan(report, 'sample');
    expect(ok).toBe(false);
    expect(text).toContain(
      'Budget for source "papers" bucket "513-8192" (513..8192 tokens): planned 30000 tokens, but only 12897 tokens in 8 documents are available; shortfall 17103 tokens. Lower the budget to 12897 or set maxRepetition for "papers" to 2.33.',
    );
    expect(report.cells.filter((c) => c.problem).map((c) => c.cell.source)).toEqual(['web', 'papers']);
  });
});
