import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planSchedule, planShards } from '../../src/plan/schedule.ts';
import { MAX_ARROW_VALUES, MAX_SHARD_BYTES, pieceBytes, rowBytes, safeRowsPerBatch, shardBytes } from '../../src/shard/limits.ts';

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

  it('keeps shards under 2 GiB whatever the target, provenance included', () => {
    // A row of 131,072 tokens: 8 · 131,072 + 128 = 1,048,704 bytes, plus its pieces' provenance.
    expect(rowBytes(131_072)).toBe(1_048_704);
    expect(pieceBytes('web', 'doc-1')).toBe(40);
    expect(MAX_SHARD_BYTES).toBe(2 ** 31 - 1);
    // 64 ranks × 4,096 rows, each row 2,000 bytes of provenance, target at its documented maximum (2^31):
    // 2,048 rows per shard would take 16,384 + 256 · 2,048 + 2,048 · 1,050,704 = 2,152,382,464 bytes > 2^31 − 1,
    // so each rank's 4,096 rows make 3 shards (1,365–1,366 rows).
    const sizes = new Array<number>(64 * 4096).fill(rowBytes(131_072, 2000));
    const shards = planShards(sizes, 64, 64, 8, 2 ** 31);
    expect(shards.length).toBe(3 * 64);
    for (const shard of shards)
      expect(
        shardBytes(
          shard.positions.map((p) => sizes[p]),
          8,
        ),
      ).toBeLessThanOrEqual(MAX_SHARD_BYTES);
    // Without the provenance the old estimate (8 · rowTokens + 1,024 per row, no batch or schema
    // overhead) allowed 2,046 rows: with 2,000 bytes of ids per row that shard is past 2 GiB.
    expect(shardBytes(new Array(2046).fill(rowBytes(131_072, 2000)), 8)).toBeGreaterThan(MAX_SHARD_BYTES);
  });

  it('gives rows with long provenance smaller shards, and refuses a row that alone passes 2 GiB', () => {
    // 8 rows on one rank; rows 4..7 carry 100,000 bytes of document ids each. Target 300,000:
    // 4 shards of 2 rows: the first two are 84,224 bytes, the last two 284,224 bytes; 3 shards
    // would put 3 rows of ids into one (> 300,000).
    const sizes = [0, 0, 0, 0, 100_000, 100_000, 100_000, 100_000].map((ids) => rowBytes(4096, ids));
    expect(planShards(sizes, 1, 1, 2, 300_000).map((s) => s.positions)).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
    ]);
    expect(planShards(sizes.slice(0, 4), 1, 1, 2, 300_000).map((s) => s.positions)).toEqual([[0, 1, 2, 3]]);
    expect(() => planShards([2 ** 31], 1, 1, 1, 2 ** 31)).toThrow(
      `the row at position 0 takes about ${2 ** 31 + 16_384 + 2048} bytes in a shard of its own, over the 2147483647-byte shard limit; lower rowTokens`,
    );
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
    // Rows of 4,096 tokens without provenance are 32,896 bytes; in batches of 2 rows a shard of 2
    // rows is 16,384 + 2,048 + 65,792 = 84,224 bytes and one of 3 rows 119,168: a 90,000-byte target
    // holds 2 rows, so each rank's 6 rows make 3 shards.
    const shards = planShards(new Array(12).fill(rowBytes(4096)), 4, 2, 2, 90_000);
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
