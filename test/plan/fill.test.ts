import { describe, expect, it } from 'vitest';
import { maxExtraTokens, raisesFor, searchFill } from '../../src/plan/fill.ts';

const options = { globalBatchRows: 4, maxExtraTokens: 100_000, rowTokens: 1000, maxEvaluations: 64, toleranceTokens: 1 };

describe('lastBatchPolicy fill: the raise search', () => {
  it('finds the smallest raise that reaches the next whole global batch', () => {
    // One more row per 1,000 tokens: 5 rows need 3 more, first reached at exactly 3,000.
    const calls: number[] = [];
    const found = searchFill((x) => (calls.push(x), 5 + Math.floor(x / 1000)), options);
    expect(found).toMatchObject({ extraTokens: 3000, rows: 8 });
    expect(found.evaluations).toBe(calls.length);
    expect(calls[0]).toBe(0);
  });

  it('stops bisecting at the tolerance: at most that many tokens above the smallest raise, in fewer plannings', () => {
    const exact = searchFill((x) => 5 + Math.floor(x / 1000), options);
    const coarse = searchFill((x) => 5 + Math.floor(x / 1000), { ...options, toleranceTokens: 100 });
    expect(coarse.rows).toBe(8);
    expect(coarse.extraTokens - exact.extraTokens).toBeGreaterThanOrEqual(0);
    expect(coarse.extraTokens - exact.extraTokens).toBeLessThanOrEqual(100);
    expect(coarse.evaluations).toBeLessThan(exact.evaluations);
  });

  it('aims at the next multiple when one token of raise jumps past a multiple', () => {
    // 7 → 9 at 2,000 tokens skips 8; 12 is reached at 2,500.
    const rows = (x: number) => (x < 500 ? 5 : x < 2000 ? 7 : x < 2500 ? 9 : 12);
    expect(searchFill(rows, options)).toMatchObject({ extraTokens: 2500, rows: 12 });
  });

  it('raises nothing when no raise within the caps reaches a multiple, or the rows already fill batches', () => {
    expect(searchFill((x) => 5 + Math.min(2, Math.floor(x / 1000)), options)).toMatchObject({ extraTokens: 0, rows: 5 });
    expect(searchFill(() => 8, options)).toEqual({ extraTokens: 0, rows: 8, evaluations: 1 });
    expect(searchFill(() => 5, { ...options, maxExtraTokens: 0 })).toEqual({ extraTokens: 0, rows: 5, evaluations: 1 });
  });

  it('stops after maxEvaluations: keeps a whole-batch raise found so far, else raises nothing', () => {
    // 0 (5 rows), then 3,000 (8 rows): whole batches, though bisection had no calls left to shrink it.
    expect(searchFill((x) => 5 + Math.floor(x / 1000), { ...options, maxEvaluations: 2 })).toEqual({ extraTokens: 3000, rows: 8, evaluations: 2 });
    // 0, 3,000 and 9,000 all pack 5 rows: out of calls with nothing found.
    const calls: number[] = [];
    expect(searchFill((x) => (calls.push(x), 5 + Math.floor(x / 50_000)), { ...options, maxEvaluations: 3 })).toEqual({
      extraTokens: 0,
      rows: 5,
      evaluations: 3,
    });
    expect(calls).toEqual([0, 3000, 9000]);
  });

  it('shares a raise in proportion to the plans, capped per cell, exactly at paper scale', () => {
    const cells = [
      { planned: 2000, capRaise: 10_000 },
      { planned: 5000, capRaise: 1_000 },
      { planned: null, capRaise: 0 }, // budget "all"
      { planned: 3000, capRaise: 0 }, // holds nothing more
    ];
    // 7,000 growable planned tokens: 4,096 extra → ceil(4096·2/7) = 1,171 and ceil(4096·5/7) = 2,926, capped at 1,000.
    expect(raisesFor(cells, 4096)).toEqual([1171, 1000, 0, 0]);
    expect(maxExtraTokens(cells)).toBe(35_000);
    // 10^10 · 4.5·10^9 is past 2^53: the shares are still exact integers.
    const paper = [
      { planned: 4_500_000_000, capRaise: 1e12 },
      { planned: 2_500_000_000, capRaise: 1e12 },
    ];
    expect(raisesFor(paper, 10_000_000_001)).toEqual([6_428_571_430, 3_571_428_572]);
  });
});
