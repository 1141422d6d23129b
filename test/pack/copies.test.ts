import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bestFitRows } from '../../src/pack/bestFitRows.ts';
import { FillerPool } from '../../src/pack/chunked.ts';
import { CopyGuard, type CopyOf } from '../../src/pack/copies.ts';
import { planPacking, type PackDoc, type PackOptions } from '../../src/pack/plan.ts';

/** A guard over a table `ref -> [doc, repeat]`. */
const guardOf = (table: [number, number][]) => new CopyGuard((ref): CopyOf => ({ doc: table[ref][0], repeat: table[ref][1] }));

describe('CopyGuard in bestFitRows and FillerPool', () => {
  it('best fit passes over a row that holds another copy; split parts of one copy may share a row', () => {
    // Capacity 10. Refs: 0 = doc 7 copy 0 (5 tokens), 1 = doc 7 copy 1 (5), 2 = doc 8 (4), 3 = doc 8 (1).
    // Longest first: ref 0 opens row 0 (5 free); ref 1 would best-fit row 0, which holds copy 0 of
    // doc 7, so it opens row 1; ref 2 best-fits row 0 (1 free); ref 3 best-fits row 0.
    const items = [5, 5, 4, 1].map((lengthTokens, ref) => ({ ref, lengthTokens }));
    const table: [number, number][] = [
      [7, 0],
      [7, 1],
      [8, 0],
      [8, 0],
    ];
    expect(bestFitRows(items, 10)).toEqual([
      { refs: [0, 1], usedTokens: 10 },
      { refs: [2, 3], usedTokens: 5 },
    ]);
    expect(bestFitRows(items, 10, [], guardOf(table))).toEqual([
      { refs: [0, 2, 3], usedTokens: 10 },
      { refs: [1], usedTokens: 5 },
    ]);
  });

  it('takes the next free-space bucket when every row of the best one holds a copy', () => {
    // Open rows: row 0 holds doc 1 copy 0 (6 used, 4 free), row 1 holds doc 2 (3 used, 7 free).
    // Ref 2 (doc 1 copy 1, 4 tokens) best-fits row 0 but may not join it: it goes to row 1.
    const guard = guardOf([
      [1, 0],
      [2, 0],
      [1, 1],
    ]);
    const open = [
      { refs: [0], usedTokens: 6 },
      { refs: [1], usedTokens: 3 },
    ];
    guard.place(0, open[0]);
    guard.place(1, open[1]);
    expect(bestFitRows([{ ref: 2, lengthTokens: 4 }], 10, open, guard)).toEqual([
      { refs: [0], usedTokens: 6 },
      { refs: [1, 2], usedTokens: 7 },
    ]);
  });

  it('a filler piece that is another copy of a row document is passed over for the next longest', () => {
    // The row holds doc 5 copy 0 (ref 9) with 4 free. Pool: ref 0 = doc 5 copy 1 (4 tokens),
    // ref 1 = doc 6 (3), ref 2 = doc 6 (1). Without the guard the row takes ref 0; with it, 3 + 1.
    const table: [number, number][] = [
      [5, 1],
      [6, 0],
      [6, 0],
    ];
    table[9] = [5, 0];
    const items = [4, 3, 1].map((lengthTokens, ref) => ({ ref, lengthTokens }));
    const plain = new FillerPool(items.length, (i) => items[i], 4, 100);
    const row0 = { refs: [9], usedTokens: 6 };
    plain.fill(row0, 10);
    expect(row0.refs).toEqual([9, 0]);
    const guard = guardOf(table);
    const guarded = new FillerPool(items.length, (i) => items[i], 4, 100, guard);
    const row = { refs: [9], usedTokens: 6 };
    guard.place(9, row);
    guarded.fill(row, 10);
    expect(row).toEqual({ refs: [9, 1, 2], usedTokens: 10 });
    expect(Array.from(guarded.remaining(), (i) => items[i].ref)).toEqual([0]);
  });
});

const options = (over: Partial<PackOptions> = {}): PackOptions => ({
  rowTokens: 8,
  originalWindowTokens: 4,
  seed: 7,
  bufferTokens: 1000,
  longDocPolicy: 'split',
  shortDocPolicy: 'split',
  cellCount: 1,
  ...over,
});
const use = (doc: number, repeat: number, lengthTokens: number, window: 'short' | 'long' = 'short'): PackDoc => ({
  doc,
  source: window === 'long' ? 'books' : 'web',
  id: `d${doc}`,
  repeat,
  cell: 0,
  lengthTokens,
  window,
});

describe('planPacking keeps copies out of one row', () => {
  it('two uses of a 4-token document: one row when allowed, two rows by default', () => {
    const docs = [use(0, 0, 4), use(0, 1, 4)];
    const together = planPacking(docs, options({ allowCopiesInRow: true }));
    expect(together.rows.map((r) => r.pieces.map((p) => [p.doc, p.repeat]))).toEqual([
      [
        [0, 0],
        [0, 1],
      ],
    ]);
    const apart = planPacking(docs, options());
    expect(apart.rows.map((r) => [r.numPad, r.pieces.map((p) => [p.doc, p.repeat])])).toEqual([
      [4, [[0, 0]]],
      [4, [[0, 1]]],
    ]);
  });

  it('the parts of one split use share a row; another use of it does not join them', () => {
    // d0 has 6 tokens in the short class (window 4): use 0 -> parts 4 + 2, use 1 -> parts 4 + 2.
    // Best fit puts each use's 4 + 2 together (6 used); 4 + 2 of the other use opens a second row.
    const plan = planPacking([use(0, 0, 6), use(0, 1, 6)], options());
    for (const row of plan.rows) expect(new Set(row.pieces.map((p) => p.repeat)).size).toBe(1);
    expect(plan.rows.map((r) => r.pieces.map((p) => p.lengthTokens).sort())).toEqual([
      [2, 4],
      [2, 4],
    ]);
  });
});

describe('copies: invariant sweep over random uses, policies, filler, buffers and seeds', () => {
  it('no row holds two uses of one document (unless allowed), every token is placed once or counted', () => {
    fc.assert(
      fc.property(
        fc.record({
          rowTokens: fc.integer({ min: 4, max: 48 }),
          windowFraction: fc.double({ min: 0.1, max: 1, noNaN: true }),
          bufferRows: fc.integer({ min: 1, max: 6 }),
          seed: fc.nat(),
          longDocPolicy: fc.constantFrom<'split' | 'truncate'>('split', 'truncate'),
          filler: fc.boolean(),
          allow: fc.boolean(),
          docs: fc.array(fc.tuple(fc.integer({ min: 2, max: 300 }), fc.boolean(), fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 40 }),
        }),
        ({ rowTokens, windowFraction, bufferRows, seed, longDocPolicy, filler, allow, docs }) => {
          const originalWindowTokens = Math.max(2, Math.floor(rowTokens * windowFraction));
          const uses: PackDoc[] = docs.flatMap(([len, long], i) => {
            const lengthTokens = long ? originalWindowTokens + 1 + (len % (3 * rowTokens)) : 2 + (len % (2 * originalWindowTokens));
            return Array.from({ length: docs[i][2] }, (_, repeat) => use(i, repeat, lengthTokens, long ? 'long' : 'short'));
          });
          const plan = planPacking(uses, {
            ...options({ rowTokens, originalWindowTokens, seed, bufferTokens: bufferRows * rowTokens, longDocPolicy }),
            fillerSource: filler ? 'web' : undefined,
            allowCopiesInRow: allow,
          });
          const covered = new Map<string, number>();
          for (const row of plan.rows) {
            expect(row.pieces.reduce((s, p) => s + p.lengthTokens, 0) + row.numPad).toBe(rowTokens);
            if (!allow) {
              const useOf = new Map<number, number>();
              for (const p of row.pieces) {
                expect(useOf.get(p.doc) ?? p.repeat).toBe(p.repeat);
                useOf.set(p.doc, p.repeat);
              }
            }
            for (const p of row.pieces) covered.set(`${p.doc}:${p.repeat}`, (covered.get(`${p.doc}:${p.repeat}`) ?? 0) + p.lengthTokens);
          }
          const truncated = plan.cells[0].truncatedTokens;
          expect([...covered.values()].reduce((s, n) => s + n, 0) + truncated).toBe(uses.reduce((s, u) => s + u.lengthTokens, 0));
          expect(covered.size).toBe(uses.length);
        },
      ),
      { numRuns: 300, seed: 11 },
    );
  });

  it('the guard changes nothing when no document is used twice', () => {
    const uses = [6, 3, 3, 5, 2, 7, 4].map((len, i) => use(i, 0, len, len > 4 ? 'long' : 'short'));
    expect(planPacking(uses, options({ fillerSource: 'web' }))).toEqual(planPacking(uses, options({ fillerSource: 'web', allowCopiesInRow: true })));
  });
});
