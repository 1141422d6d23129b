import { describe, expect, it } from 'vitest';
import { planSourceSelection, type Candidate } from '../../src/select/plan.ts';
import { BudgetError } from '../../src/core/errors.ts';

const candidates: Candidate[] = [100, 250, 40, 900, 75, 310].map((lengthTokens, index) => ({ index, id: `f.jsonl:${index + 1}`, lengthTokens }));

describe('planSourceSelection', () => {
  it('takes documents in seeded order until the budget is reached (at most one document over)', () => {
    // Pinned seed-9176 order of the six documents: 2, 0, 5, 1, 3, 4 (lengths 40, 100, 310, 250, 900, 75).
    expect(planSourceSelection('web', candidates, 'all', 9176).selected).toEqual([2, 0, 5, 1, 3, 4]);
    // Budget 500: 40 + 100 + 310 = 450 < 500, so document 1 (250) is taken too: 700 tokens.
    const s = planSourceSelection('web', candidates, 500, 9176);
    expect(s.selected).toEqual([2, 0, 5, 1]);
    expect(s.selectedTokens).toBe(700);
    expect(s.overBudgetTokens).toBe(975);
    expect(s.overBudgetDocuments).toBe(2);
    expect(s.availableTokens).toBe(1675);
    // Budget 450 is met exactly by the first three.
    expect(planSourceSelection('web', candidates, 450, 9176).selectedTokens).toBe(450);
  });

  it('never stops before the budget and never passes it by a whole document', () => {
    for (let budget = 1; budget <= 1675; budget += 37) {
      const s = planSourceSelection('web', candidates, budget, 1);
      const last = candidates[s.selected[s.selected.length - 1]].lengthTokens;
      expect(s.selectedTokens).toBeGreaterThanOrEqual(budget);
      expect(s.selectedTokens - last).toBeLessThan(budget);
      expect(s.selectedTokens + s.overBudgetTokens).toBe(1675);
    }
  });

  it('"all" takes everything; the order depends on the seed, not on input order', () => {
    expect(planSourceSelection('web', candidates, 'all', 3).selectedTokens).toBe(1675);
    const reversed = candidates.slice().reverse();
    expect(planSourceSelection('web', reversed, 'all', 3).selected).toEqual(planSourceSelection('web', candidates, 'all', 3).selected);
    expect(planSourceSelection('web', candidates, 'all', 3).selected).not.toEqual(planSourceSelection('web', candidates, 'all', 4).selected);
  });

  it('fails on a budget above what the source holds, naming source, budget and availability', () => {
    expect(() => planSourceSelection('web', candidates, 2000, 1)).toThrow(BudgetError);
    expect(() => planSourceSelection('web', candidates, 2000, 1)).toThrow('Source "web": budget 2000 tokens exceeds the 1675 tokens available in 6 in-range documents');
  });
});
