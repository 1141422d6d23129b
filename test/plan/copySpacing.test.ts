import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConfigError } from '../../src/core/errors.ts';
import type { PlannedRow } from '../../src/pack/plan.ts';
import { spaceCopies } from '../../src/plan/copySpacing.ts';
import type { Schedule } from '../../src/plan/schedule.ts';

/** A row of pieces `[doc, repeat]` (each 1 token; lengths do not matter here). */
const row = (window: 'short' | 'long', ...pieces: [number, number][]): PlannedRow => ({
  window,
  numPad: 0,
  pieces: pieces.map(([doc, repeat]) => ({ doc, repeat, cell: 0, startToken: 0, lengthTokens: 1, part: 0, parts: 1, truncated: false })),
});
const scheduleOf = (order: number[]): Schedule => ({ steps: 1, order: order.slice(), dropped: [], longPerStep: [] });
const name = (d: number) => `document d${d}`;

describe('spaceCopies', () => {
  it('moves a copy past the spacing, swapping only with rows of its window class', () => {
    // Rows: 0 = d1 use 0, 1 = d1 use 1, 2 = a long row, 3..5 = other documents; order 0..5; spacing 2.
    // Position 1 holds d1 use 1, 1 row after use 0: the first later short row that fits is row 3
    // (row 2 is long), so they swap. Position 2 (row 2) has no copy. Position 3 now holds row 1,
    // 3 rows after use 0: it stays.
    const rows = [row('short', [1, 0]), row('short', [1, 1]), row('long', [2, 0]), row('short', [3, 0]), row('short', [4, 0]), row('short', [5, 0])];
    const schedule = scheduleOf([0, 1, 2, 3, 4, 5]);
    spaceCopies(schedule, rows, 2, name);
    expect(schedule.order).toEqual([0, 3, 2, 1, 4, 5]);
  });

  it('near the end, swaps with the first earlier row of the class where both fit', () => {
    // Rows 0 = d5, 1 = d1 use 0, 2 = d2, 3 = d1 use 1; order [0, 2, 1, 3]; spacing 1. Position 3
    // (row 3) is 1 row after use 0 and no row follows: row 0 at position 0 can take its place
    // (its new neighbour, row 1, holds no copy of d5) and row 3 fits at position 0 (row 2 is next to it).
    const rows = [row('short', [5, 0]), row('short', [1, 0]), row('short', [2, 0]), row('short', [1, 1])];
    const schedule = scheduleOf([0, 2, 1, 3]);
    spaceCopies(schedule, rows, 1, name);
    expect(schedule.order).toEqual([3, 2, 1, 0]);
  });

  it('split parts of one use may be neighbours; spacing 0 changes nothing', () => {
    const rows = [row('short', [1, 0]), row('short', [1, 0]), row('short', [1, 1])];
    const schedule = scheduleOf([0, 1, 2]);
    spaceCopies(schedule, rows, 0, name);
    expect(schedule.order).toEqual([0, 1, 2]);
    expect(() => spaceCopies(schedule, rows, 1, name)).toThrow(ConfigError);
  });

  it('fails naming the document, the row and the fix when no later row can take the place', () => {
    const rows = [row('short', [1, 0]), row('short', [1, 1])];
    expect(() => spaceCopies(scheduleOf([0, 1]), rows, 1, name)).toThrow(
      'packing.repeatSpacingRows: cannot keep the copies of document d1 more than 1 rows apart (row 1 of 2, no later short row can take its place); lower packing.repeatSpacingRows, or the maxRepetition of its source',
    );
  });

  it('sweep: a permutation, the same window at every position, copies more than the spacing apart', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 2 })), { maxLength: 3 })), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.integer({ min: 0, max: 6 }),
        (spec, spacing) => {
          const rows = spec.map(([long, pieces]) => row(long ? 'long' : 'short', ...pieces));
          const schedule = scheduleOf(rows.map((_, i) => i));
          try {
            spaceCopies(schedule, rows, spacing, name);
          } catch (error) {
            expect(error).toBeInstanceOf(ConfigError);
            return;
          }
          expect(schedule.order.slice().sort((a, b) => a - b)).toEqual(rows.map((_, i) => i));
          expect(schedule.order.map((r) => rows[r].window)).toEqual(rows.map((r) => r.window));
          const repeated = new Set(rows.flatMap((r) => r.pieces.filter((p) => p.repeat > 0).map((p) => p.doc)));
          schedule.order.forEach((a, p) =>
            schedule.order.slice(p + 1, p + 1 + spacing).forEach((b) => {
              for (const x of rows[a].pieces) for (const y of rows[b].pieces) if (repeated.has(x.doc) && x.doc === y.doc) expect(x.repeat).toBe(y.repeat);
            }),
          );
        },
      ),
      { numRuns: 400, seed: 5 },
    );
  });
});
