import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planPacking, type PackDoc } from '../../src/pack/plan.ts';
import { packBestFitDecreasing } from '../../src/pack/bestFit.ts';
import { splitDocument } from '../../src/pack/split.ts';

describe('splitDocument', () => {
  it('cuts a document into row-length pieces, the last one holding the rest', () => {
    expect(splitDocument(11, 8)).toEqual([
      { startToken: 0, lengthTokens: 8, part: 0, parts: 2 },
      { startToken: 8, lengthTokens: 3, part: 1, parts: 2 },
    ]);
    expect(splitDocument(16, 8).map((p) => p.lengthTokens)).toEqual([8, 8]);
    expect(splitDocument(5, 8)).toEqual([{ startToken: 0, lengthTokens: 5, part: 0, parts: 1 }]);
  });
});

describe('planPacking worked example (row 8 tokens, original window 4 tokens)', () => {
  // Documents (lengths include BOS/EOS): short 3, 2, 4, 3; long 6 and 11.
  // The 11-token document is split into 8 + 3 (positions restart at 0 in each piece).
  // Long class, best-fit decreasing over 8, 6, 3: 8 fills row A; 6 opens row B (2 free);
  // 3 fits nowhere and opens row C, which then holds only a 3-token piece <= window: a short row.
  // Short class over 4, 3, 3, 2: 4 opens D (4 free); 3 best-fits D (1 free); 3 opens E (5 free);
  // 2 best-fits E (3 free). Rows before the seeded shuffle: A, B, C, D, E.
  const docs: PackDoc[] = [
    { doc: 0, lengthTokens: 3, window: 'short' },
    { doc: 1, lengthTokens: 2, window: 'short' },
    { doc: 2, lengthTokens: 6, window: 'long' },
    { doc: 3, lengthTokens: 11, window: 'long' },
    { doc: 4, lengthTokens: 4, window: 'short' },
    { doc: 5, lengthTokens: 3, window: 'short' },
  ];

  it('gives the exact rows, pieces and padding (seed 7 order: A, C, B, D, E)', () => {
    const plan = planPacking(docs, { rowTokens: 8, originalWindowTokens: 4, seed: 7 });
    expect(plan.splitDocuments).toBe(1);
    expect(plan.pieces).toBe(7);
    expect(plan.rows).toEqual([
      { window: 'long', numPad: 0, pieces: [{ doc: 3, startToken: 0, lengthTokens: 8, part: 0, parts: 2 }] },
      { window: 'short', numPad: 5, pieces: [{ doc: 3, startToken: 8, lengthTokens: 3, part: 1, parts: 2 }] },
      { window: 'long', numPad: 2, pieces: [{ doc: 2, startToken: 0, lengthTokens: 6, part: 0, parts: 1 }] },
      {
        window: 'short',
        numPad: 1,
        pieces: [
          { doc: 4, startToken: 0, lengthTokens: 4, part: 0, parts: 1 },
          { doc: 0, startToken: 0, lengthTokens: 3, part: 0, parts: 1 },
        ],
      },
      {
        window: 'short',
        numPad: 3,
        pieces: [
          { doc: 5, startToken: 0, lengthTokens: 3, part: 0, parts: 1 },
          { doc: 1, startToken: 0, lengthTokens: 2, part: 0, parts: 1 },
        ],
      },
    ]);
  });

  it('is a function of the seed only', () => {
    const a = planPacking(docs, { rowTokens: 8, originalWindowTokens: 4, seed: 7 });
    const b = planPacking(docs, { rowTokens: 8, originalWindowTokens: 4, seed: 7 });
    const c = planPacking(docs, { rowTokens: 8, originalWindowTokens: 4, seed: 8 });
    expect(b).toEqual(a);
    expect(new Set(c.rows.map((r) => JSON.stringify(r)))).toEqual(new Set(a.rows.map((r) => JSON.stringify(r))));
  });
});

describe('packBestFitDecreasing', () => {
  it('puts each piece into the fullest row that still holds it (where first-fit would differ)', () => {
    // Capacity 10, pieces 4, 5, 7, 1 (refs 0..3), taken longest first: 7 opens row 0 (3 free);
    // 5 opens row 1 (5 free); 4 goes to row 1 (1 free; row 0 is too full); 1 goes to row 1,
    // the tightest fit (1 free), where first-fit would have put it into row 0.
    const items = [4, 5, 7, 1].map((lengthTokens, ref) => ({ ref, lengthTokens }));
    expect(packBestFitDecreasing(items, 10)).toEqual([
      { refs: [2], usedTokens: 7 },
      { refs: [1, 0, 3], usedTokens: 10 },
    ]);
  });

  it('rejects a piece longer than a row', () => {
    expect(() => packBestFitDecreasing([{ ref: 0, lengthTokens: 9 }], 8)).toThrow(/pieces must be 1\.\.8/);
  });
});

describe('planPacking properties over random lengths and seeds', () => {
  it('places every token exactly once, never over capacity, windows agree with positions', () => {
    fc.assert(
      fc.property(
        fc.record({
          rowTokens: fc.integer({ min: 4, max: 64 }),
          windowFraction: fc.double({ min: 0.1, max: 1, noNaN: true }),
          seed: fc.nat(),
          lengths: fc.array(fc.tuple(fc.integer({ min: 2, max: 200 }), fc.boolean()), { minLength: 1, maxLength: 60 }),
        }),
        ({ rowTokens, windowFraction, seed, lengths }) => {
          const originalWindowTokens = Math.max(2, Math.floor(rowTokens * windowFraction));
          const docs: PackDoc[] = lengths.map(([len, long], doc) => ({
            doc,
            // short documents fit the window; long documents are longer than it (as the recipe schema requires)
            lengthTokens: long ? originalWindowTokens + 1 + (len % (3 * rowTokens)) : 2 + (len % (originalWindowTokens - 1)),
            window: long ? 'long' : 'short',
          }));
          const plan = planPacking(docs, { rowTokens, originalWindowTokens, seed });
          const covered = new Map<number, number>();
          for (const row of plan.rows) {
            const used = row.pieces.reduce((s, p) => s + p.lengthTokens, 0);
            expect(used + row.numPad).toBe(rowTokens);
            expect(row.numPad).toBeGreaterThanOrEqual(0);
            const longest = Math.max(...row.pieces.map((p) => p.lengthTokens));
            expect(row.window).toBe(longest > originalWindowTokens ? 'long' : 'short');
            const classes = new Set(row.pieces.map((p) => docs[p.doc].window));
            expect(classes.size).toBe(1);
            for (const p of row.pieces) covered.set(p.doc, (covered.get(p.doc) ?? 0) + p.lengthTokens);
          }
          for (const d of docs) expect(covered.get(d.doc)).toBe(d.lengthTokens);
          // Pieces of one document tile it: starts are 0, rowTokens, 2·rowTokens, …
          const starts = new Map<number, number[]>();
          for (const row of plan.rows) for (const p of row.pieces) starts.set(p.doc, [...(starts.get(p.doc) ?? []), p.startToken]);
          for (const [doc, s] of starts) expect(s.sort((a, b) => a - b)).toEqual(splitDocument(docs[doc].lengthTokens, rowTokens).map((p) => p.startToken));
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });
});
