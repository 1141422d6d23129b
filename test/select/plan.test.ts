import { describe, expect, it } from 'vitest';
import { placeableTokens, planCellSelection, truncationLimitTokens, type Candidate } from '../../src/select/plan.ts';
import { cellOf, sourceCells, type CellSpec } from '../../src/config/cells.ts';
import { BudgetError } from '../../src/core/errors.ts';
import type { SourceConfig } from '../../src/config/schema.ts';

const candidates: Candidate[] = [100, 250, 40, 900, 75, 310].map((lengthTokens, index) => ({ index, id: `f.jsonl:${index + 1}`, lengthTokens }));
const cell = (plannedTokens: number | 'all', maxRepetition = 1): CellSpec => ({
  source: 'web',
  bucket: '2-1000',
  min: 2,
  max: 1000,
  plannedTokens,
  window: 'short',
  maxRepetition,
});

describe('planCellSelection', () => {
  it('takes documents in seeded order until the budget is reached (at most one document over)', () => {
    // Pinned seed-9176 order of the six documents: 2, 0, 5, 1, 3, 4 (lengths 40, 100, 310, 250, 900, 75).
    expect(planCellSelection(cell('all'), candidates, 9176).selected.map((s) => s.index)).toEqual([2, 0, 5, 1, 3, 4]);
    // Budget 500: 40 + 100 + 310 = 450 < 500, so document 1 (250) is taken too: 700 tokens.
    const s = planCellSelection(cell(500), candidates, 9176);
    expect(s.selected).toEqual([2, 0, 5, 1].map((index) => ({ index, repeat: 0 })));
    expect(s).toMatchObject({ achievedTokens: 700, overBudgetTokens: 975, overBudgetDocuments: 2, availableTokens: 1675, repeatedTokens: 0 });
    // Budget 450 is met exactly by the first three.
    expect(planCellSelection(cell(450), candidates, 9176).achievedTokens).toBe(450);
  });

  it('never stops before the budget and never passes it by a whole document', () => {
    for (let budget = 1; budget <= 1675; budget += 37) {
      const s = planCellSelection(cell(budget), candidates, 1);
      const last = candidates[s.selected[s.selected.length - 1].index].lengthTokens;
      expect(s.achievedTokens).toBeGreaterThanOrEqual(budget);
      expect(s.achievedTokens - last).toBeLessThan(budget);
      expect(s.achievedTokens + s.overBudgetTokens).toBe(1675);
    }
  });

  it('"all" takes everything once; the order depends on the seed, not on input order', () => {
    expect(planCellSelection(cell('all'), candidates, 3).achievedTokens).toBe(1675);
    const order = (c: Candidate[], seed: number) => planCellSelection(cell('all'), c, seed).selected.map((s) => s.index);
    expect(order(candidates.slice().reverse(), 3)).toEqual(order(candidates, 3));
    expect(order(candidates, 3)).not.toEqual(order(candidates, 4));
  });

  it('fails on a plan above what the cell holds, naming the cell, the shortfall and the fixes', () => {
    expect(() => planCellSelection(cell(2000), candidates, 1)).toThrow(BudgetError);
    expect(() => planCellSelection(cell(2000), candidates, 1)).toThrow(
      'Budget for source "web" bucket "2-1000" (2..1000 tokens): planned 2000 tokens, but only 1675 tokens in 6 documents are available; shortfall 325 tokens. Lower the budget to 1675 or set maxRepetition for "web" to 1.2.',
    );
  });

  it('repeats documents only up to maxRepetition, in a new seeded order per use', () => {
    const s = planCellSelection(cell(2000, 2), candidates, 9176);
    expect(s.selected.slice(0, 6).every((x) => x.repeat === 0)).toBe(true);
    expect(s.selected.slice(6).every((x) => x.repeat === 1)).toBe(true);
    expect(s.achievedTokens).toBeGreaterThanOrEqual(2000);
    expect(s.repeatedTokens).toBe(s.achievedTokens - 1675);
    expect(s.overBudgetTokens).toBe(0);
    expect(() => planCellSelection(cell(3400, 2), candidates, 9176)).toThrow(
      '(3350 with maxRepetition 2); shortfall 50 tokens. Lower the budget to 3350 or set maxRepetition for "web" to 2.03.',
    );
  });
});

describe('budgets under a truncate policy count the tokens that will be placed', () => {
  // Truncated at 200 tokens, the six documents hold 100 + 200 + 40 + 200 + 75 + 200 = 815 placeable tokens.
  it('selects until the placeable tokens reach the plan', () => {
    expect(placeableTokens(900, 200)).toBe(200);
    expect(placeableTokens(900)).toBe(900);
    // Seed 9176 order: 2, 0, 5, 1, 3, 4 (lengths 40, 100, 310, 250, 900, 75; placeable 40, 100, 200, 200, 200, 75).
    // Plan 700: counting whole lengths stops after 40 + 100 + 310 + 250 = 700 with only 540 tokens to place;
    // counting placeable tokens, 540 < 700 takes document 3 too: 740.
    const s = planCellSelection(cell(700), candidates, 9176, 200);
    expect(s.selected.map((x) => x.index)).toEqual([2, 0, 5, 1, 3]);
    expect(s).toMatchObject({ availableTokens: 1675, placeableTokens: 815, achievedTokens: 1600, overBudgetTokens: 75, overBudgetDocuments: 1 });
    expect(planCellSelection(cell(700), candidates, 9176).selected.map((x) => x.index)).toEqual([2, 0, 5, 1]);
  });

  it('a plan above the placeable tokens fails, naming the truncation', () => {
    expect(() => planCellSelection(cell(900), candidates, 9176, 200)).toThrow(
      'Budget for source "web" bucket "2-1000" (2..1000 tokens): planned 900 tokens, but only 815 tokens in 6 documents are available (counted as placed: documents truncated at 200 tokens); shortfall 85 tokens. Lower the budget to 815 or set maxRepetition for "web" to 1.11.',
    );
    expect(planCellSelection(cell('all'), candidates, 9176, 200)).toMatchObject({ achievedTokens: 1675, placeableTokens: 815, overBudgetTokens: 0 });
  });

  it('the limit is the row for long sources and the original window for short ones, only under truncate', () => {
    const recipe = (longDocPolicy: 'split' | 'truncate', shortDocPolicy: 'split' | 'truncate') =>
      ({ rowTokens: 4096, originalWindowTokens: 512, packing: { longDocPolicy, shortDocPolicy, longRowAttention: 'document' } }) as const;
    expect(truncationLimitTokens(recipe('truncate', 'split'), 'long')).toBe(4096);
    expect(truncationLimitTokens(recipe('truncate', 'split'), 'short')).toBeUndefined();
    expect(truncationLimitTokens(recipe('split', 'truncate'), 'short')).toBe(512);
    expect(truncationLimitTokens(recipe('split', 'truncate'), 'long')).toBeUndefined();
  });
});

describe('cells', () => {
  const source = (over: Partial<SourceConfig>): SourceConfig => ({
    name: 'rpv1',
    format: 'jsonl',
    paths: ['x'],
    textField: 'text',
    window: 'long',
    budgetTokens: 7000,
    lengthTokens: { min: 8193, max: 200000 },
    maxRepetition: 1,
    oversample: 1.5,
    prefilter: true,
    ...over,
  });

  it('split a source budget over buckets by share (3 : 4, the LongRoPE2 Table 1 ratio), the last bucket taking the rest', () => {
    const cells = sourceCells(
      source({
        buckets: [
          { min: 100001, max: 200000, share: 4 },
          { min: 8193, max: 100000, share: 3 },
        ],
      }),
      1,
    );
    expect(cells.map((c) => [c.bucket, c.plannedTokens])).toEqual([
      ['8193-100000', 3000],
      ['100001-200000', 4000],
    ]);
    expect(
      sourceCells(
        source({
          budgetTokens: 10,
          buckets: [
            { min: 8193, max: 100000, share: 1 },
            { min: 100001, max: 200000, share: 2 },
          ],
        }),
        1,
      ).map((c) => c.plannedTokens),
    ).toEqual([3, 7]);
  });

  it('apply scale to budgets, and default to one bucket over lengthTokens', () => {
    expect(sourceCells(source({}), 0.001).map((c) => [c.bucket, c.plannedTokens])).toEqual([['8193-200000', 7]]);
    expect(sourceCells(source({ budgetTokens: 'all' }), 0.5)[0].plannedTokens).toBe('all');
    expect(sourceCells(source({ budgetTokens: undefined, buckets: [{ name: 'mid', min: 9000, max: 9999, budgetTokens: 100 }] }), 2)[0]).toMatchObject({
      bucket: 'mid',
      plannedTokens: 200,
    });
  });

  it('cellOf finds the bucket holding a length, or -1 in a gap', () => {
    const cells = sourceCells(
      source({
        buckets: [
          { min: 8193, max: 100000, share: 3 },
          { min: 120000, max: 200000, share: 4 },
        ],
      }),
      1,
    );
    expect([8193, 100000, 100001, 119999, 120000, 200000, 200001].map((n) => cellOf(cells, n))).toEqual([0, 0, -1, -1, 1, 1, -1]);
  });
});
