/**
 * The plan's size check before selection (assertPlanSize): a plan that passes what row ids allow
 * is a budget typo (BudgetError); one that passes only the rows the free disk holds is a disk
 * problem (PipelineError), whose fix names what builds less for "all" budgets too.
 */
import { describe, expect, it } from 'vitest';
import type { LoadedRecipe } from '../../src/config/load.ts';
import type { CellSpec } from '../../src/config/cells.ts';
import { BudgetError, PipelineError } from '../../src/core/errors.ts';
import { assertPlanSize, type Census } from '../../src/plan/select.ts';

const loaded = { recipe: { rowTokens: 4096, output: { globalBatchRows: 4 } } } as unknown as LoadedRecipe;

/** A census of one cell planned at `planned`, holding `lengths` (tokens); no document table (the check reads lengths only). */
function census(planned: number | 'all', lengths: number[]): Census {
  const cell: CellSpec = { source: 'web', bucket: '2-4096', min: 2, max: 4096, plannedTokens: planned, window: 'short', maxRepetition: 1 };
  return {
    cells: [cell],
    docs: null as unknown as Census['docs'],
    members: [Int32Array.from(lengths, (_, k) => k)],
    lengths: [Int32Array.from(lengths)],
    accounts: {},
  };
}

describe('assertPlanSize', () => {
  it('passes a plan within both bounds', () => {
    // 10,000 tokens: ceil(10,000 / 4,096) = 3 rows + one global batch of 4 = 7 rows.
    expect(() => assertPlanSize(loaded, census('all', [4000, 3000, 3000]), 7, 'disk')).not.toThrow();
  });

  it('names a disk shortfall as such, with the rows it needs and the room there', () => {
    const error = (() => {
      try {
        assertPlanSize(loaded, census('all', [4000, 3000, 3000]), 6, 'a row takes about 33,792 bytes');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(PipelineError);
    expect(error).not.toBeInstanceOf(BudgetError);
    expect(error!.message).toBe(
      'Not enough disk space for this build: it needs about 7 rows (10,000 tokens in rows of 4,096, and one global batch that lastBatchPolicy fill may add), room for 6 (a row takes about 33,792 bytes); the largest cells: web 2-4096: 10,000 tokens. Free space there, give --work on another file system, or build less (maxFiles, or numeric budgetTokens).',
    );
  });

  it('calls rows past 32-bit row ids a budget typo', () => {
    expect(() => assertPlanSize(loaded, census(2 ** 31 * 4096, [100]))).toThrow(BudgetError);
  });
});
