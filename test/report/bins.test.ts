import { describe, expect, it } from 'vitest';
import { BinCounts, binLabel, countBinOf, logBinOf, SUB_BINS } from '../../src/report/bins.ts';

describe('log bins with integer edges', () => {
  it('cuts each octave into four bins of equal integer width (one value each below 8)', () => {
    expect(SUB_BINS).toBe(4);
    const bins = [1, 2, 3, 4, 7, 8, 9, 10, 15, 16, 19, 20, 512, 513, 639, 640, 4095, 4096, 131072].map((v) => [v, logBinOf(v)]);
    expect(bins).toEqual([
      [1, { start: 1, end: 2 }],
      [2, { start: 2, end: 3 }],
      [3, { start: 3, end: 4 }],
      [4, { start: 4, end: 5 }],
      [7, { start: 7, end: 8 }],
      [8, { start: 8, end: 10 }],
      [9, { start: 8, end: 10 }],
      [10, { start: 10, end: 12 }],
      [15, { start: 14, end: 16 }],
      [16, { start: 16, end: 20 }],
      [19, { start: 16, end: 20 }],
      [20, { start: 20, end: 24 }],
      [512, { start: 512, end: 640 }],
      [513, { start: 512, end: 640 }],
      [639, { start: 512, end: 640 }],
      [640, { start: 640, end: 768 }],
      [4095, { start: 3584, end: 4096 }],
      [4096, { start: 4096, end: 5120 }],
      [131072, { start: 131072, end: 163840 }],
    ]);
  });

  it('gives 0 a bin of its own for counts, and refuses what is not a whole length', () => {
    expect(countBinOf(0)).toEqual({ start: 0, end: 1 });
    expect(countBinOf(5)).toEqual({ start: 5, end: 6 });
    expect(() => logBinOf(0)).toThrow('expected a whole length >= 1, got 0');
    expect(() => logBinOf(2.5)).toThrow('expected a whole length >= 1, got 2.5');
  });

  it('labels and counts bins in start order', () => {
    expect([binLabel({ start: 7, end: 8 }), binLabel({ start: 512, end: 640 })]).toEqual(['7', '512–639']);
    const counts = new BinCounts();
    for (const v of [600, 3, 513, 0, 3]) counts.add(v, countBinOf);
    counts.add(9, logBinOf, 5);
    expect(counts.sorted()).toEqual([
      { start: 0, end: 1, count: 1 },
      { start: 3, end: 4, count: 2 },
      { start: 8, end: 10, count: 5 },
      { start: 512, end: 640, count: 2 },
    ]);
  });
});
