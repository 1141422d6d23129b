import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planSchedule, planShards } from '../../src/plan/schedule.ts';
import { MAX_ARROW_VALUES, MAX_SHARD_BYTES, rowBytes, safeRowsPerBatch } from '../../src/shard/limits.ts';

describe('limit arithmetic', () => {
  it('keeps record batches under 2^31 - 1 values per column', () => {
    expect(MAX_ARROW_VALUES).toBe(2_147_483_647);
    expect(safeRowsPerBatch(8, 131_072)).toBe(8);
    // floor((2^31 - 1) / 131,072) = 16,383 rows of 131,072 tokens fit in one batch.
    expect(safeRowsPerBatch(100_000, 131_072)).toBe(16_383);
    expect(16_383 * 131_072).toBeLessThanOrEqual(MAX_ARROW_VALUES);
    expect(16_384 * 131_072).toBeGreaterThan(MAX_ARROW_VALUES);
    expect(() => safeRowsPerBatch(1, 2 ** 31)).toThrow(/exceeds the 2147483647 values/);
  });

  it('keeps shards under 2 GiB whatever the target', () => {
    expect(rowBytes(131_072)).toBe(1_049_600);
    const shards = planShards(64 * 4096, 64, 64, 131_072, MAX_SHARD_BYTES);
    const rows = Math.max(...shards.map((s) => s.positions.length));
    expect(rows * rowBytes(131_072)).toBeLessThanOrEqual(MAX_SHARD_BYTES);
    // 2 GiB / 1,049,600 bytes = 2,046 rows at most per shard.
    expect(rows).toBeLessThanOrEqual(2046);
  });
});

describe('planSchedule', () => {
  it('puts the mix ratio into every global batch and drops what does not fill the last one', () => {
    // 10 long + 7 short rows, global batch 4: 4 steps (16 rows), 1 dropped. Long kept:
    // round(10 × 16 / 17) = 9, spread as floor((s+1)·9/4) − floor(s·9/4) = 2, 2, 2, 3.
    const windows = [...Array(10).fill('long'), ...Array(7).fill('short')] as ('short' | 'long')[];
    const s = planSchedule(windows, 4, 9176);
    expect(s.steps).toBe(4);
    expect(s.longPerStep).toEqual([2, 2, 2, 3]);
    expect(s.order).toHaveLength(16);
    expect(s.dropped).toHaveLength(1);
    expect(new Set([...s.order, ...s.dropped]).size).toBe(17);
    for (let step = 0; step < 4; step++) expect(s.order.slice(step * 4, step * 4 + 4).filter((i) => windows[i] === 'long').length).toBe(s.longPerStep[step]);
    expect(planSchedule(windows, 4, 9176)).toEqual(s);
    expect(planSchedule(windows, 4, 1).order).not.toEqual(s.order);
  });

  it('over random mixes: every kept row once, each step within one row of the ratio', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 32 }),
        fc.nat(),
        (longRows, shortRows, g, seed) => {
          const windows = [...Array(longRows).fill('long'), ...Array(shortRows).fill('short')] as ('short' | 'long')[];
          const s = planSchedule(windows, g, seed);
          expect(s.order.length).toBe(Math.floor(windows.length / g) * g);
          expect(new Set(s.order).size).toBe(s.order.length);
          expect(s.order.length + s.dropped.length).toBe(windows.length);
          const kept = s.order.filter((i) => windows[i] === 'long').length;
          for (const n of s.longPerStep) expect(Math.abs(n - kept / s.steps)).toBeLessThan(1);
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });
});

describe('planShards', () => {
  it('gives each rank the same rows in step order, in a multiple of the world size of shards', () => {
    // 3 steps of global batch 4 over 2 ranks: rank 0 takes positions 0,1 of each step, rank 1 takes 2,3.
    // Rows of 4,096 tokens are 33,792 bytes; a 70,000-byte target holds 2 rows, so each rank's 6 rows make 3 shards.
    const shards = planShards(12, 4, 2, 4096, 70_000);
    expect(shards).toEqual([
      { rank: 0, positions: [0, 1] },
      { rank: 0, positions: [4, 5] },
      { rank: 0, positions: [8, 9] },
      { rank: 1, positions: [2, 3] },
      { rank: 1, positions: [6, 7] },
      { rank: 1, positions: [10, 11] },
    ]);
  });
});
