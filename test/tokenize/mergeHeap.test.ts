import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeByHeap, mergeByScan, mergeSymbols, PairTable } from '../../src/tokenize/mergeHeap.ts';

describe('mergeSymbols', () => {
  it('merges the lowest rank first and the leftmost pair among equal ranks', () => {
    // a=0 b=1; (a,a)→2 rank 5; (2,a)→3 rank 1; (a,b)→4 rank 5.
    const table = new PairTable(8);
    table.set(0, 0, 5, 2);
    table.set(2, 0, 1, 3);
    table.set(0, 1, 5, 4);
    // "aaab": (a,a)@0 and (a,a)@1 and (a,b)@2 share rank 5: leftmost first → [aa] a b; then ([aa],a)
    // has rank 1 → [aaa] b.
    expect(Array.from(mergeSymbols(Int32Array.of(0, 0, 0, 1), 4, table))).toEqual([3, 1]);
    expect(Array.from(mergeSymbols(Int32Array.of(0, 1), 2, table))).toEqual([4]);
    expect(Array.from(mergeSymbols(Int32Array.of(1), 1, table))).toEqual([1]);
    expect(Array.from(mergeSymbols(new Int32Array(0), 0, table))).toEqual([]);
  });

  it('gives the same symbols with the heap as with the scan, on random tables and inputs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 30 })), { maxLength: 25 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 300 }),
        (pairs, input) => {
          const table = new PairTable(64);
          // merged ids 6.. are fresh symbols that can merge again through pairs on (merged, base) ids
          pairs.forEach(([a, b, rank], i) => table.set(a, b, rank, i % 3 === 0 ? 6 + (i % 4) : (a + b) % 6));
          for (let m = 6; m < 10; m++) table.set(m, m % 6, 31 + m, (m + 1) % 6);
          const heap = mergeByHeap(Int32Array.from(input), input.length, table);
          const scan = mergeByScan(Int32Array.from(input), input.length, table);
          expect(Array.from(heap)).toEqual(Array.from(scan));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('refuses ranks the heap key cannot hold', () => {
    expect(() => new PairTable(4).set(0, 0, 2 ** 25, 1)).toThrow(RangeError);
  });
});
