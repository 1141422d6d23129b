import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planPacking, type PackDoc, type PackOptions } from '../../src/pack/plan.ts';
import { bestFitRows } from '../../src/pack/bestFitRows.ts';
import { FillerPool, packChunked } from '../../src/pack/chunked.ts';
import { splitDocument } from '../../src/pack/split.ts';
import type { RowPlan } from '../../src/plan/reduce.ts';
import type { PlannedRow } from '../../src/pack/plan.ts';
import { layoutRow } from '../../src/write/index.ts';

const doc = (i: number, lengthTokens: number, window: 'short' | 'long', source = window === 'long' ? 'books' : 'web'): PackDoc => ({
  doc: i,
  source,
  id: `d${i}`,
  repeat: 0,
  cell: window === 'long' ? 1 : 0,
  lengthTokens,
  window,
});
const options = (over: Partial<PackOptions> = {}): PackOptions => ({
  rowTokens: 8,
  originalWindowTokens: 4,
  seed: 7,
  bufferTokens: 1000,
  longDocPolicy: 'split',
  shortDocPolicy: 'split',
  cellCount: 2,
  ...over,
});

describe('splitDocument', () => {
  it('cuts a document into pieces of the limit, the last one holding the rest', () => {
    expect(splitDocument(11, 8)).toEqual([
      { startToken: 0, lengthTokens: 8, part: 0, parts: 2 },
      { startToken: 8, lengthTokens: 3, part: 1, parts: 2 },
    ]);
    expect(splitDocument(16, 8).map((p) => p.lengthTokens)).toEqual([8, 8]);
    expect(splitDocument(5, 8)).toEqual([{ startToken: 0, lengthTokens: 5, part: 0, parts: 1 }]);
  });
});

describe('worked example: row 8 tokens, original window 4 tokens', () => {
  // Documents (lengths include BOS/EOS): short d0 3, d1 2, d4 4, d5 3; long d2 6 and d3 11.
  // d3 is split into 8 + 3 (positions restart at 0 in each piece).
  // Long class, best-fit decreasing over 8, 6, 3: 8 fills row A; 6 opens row B (2 free);
  // 3 fits nowhere and opens row C, which holds only a 3-token piece <= window: a short row.
  // Short class over 4, 3, 3, 2: 4 opens D (4 free); d0's 3 best-fits D (1 free); d5's 3 opens E
  // (5 free); 2 best-fits E (3 free). Rows before the seeded shuffle: A, B, C, D, E; seed 7 gives A, C, B, D, E.
  const docs = [doc(0, 3, 'short'), doc(1, 2, 'short'), doc(2, 6, 'long'), doc(3, 11, 'long'), doc(4, 4, 'short'), doc(5, 3, 'short')];
  const piece = (d: number, startToken: number, lengthTokens: number, part = 0, parts = 1, truncated = false) => ({
    doc: d,
    repeat: 0,
    cell: d === 2 || d === 3 ? 1 : 0,
    startToken,
    lengthTokens,
    part,
    parts,
    truncated,
  });

  it('gives the exact rows, pieces and padding', () => {
    const plan = planPacking(docs, options());
    expect(plan.pieces).toBe(7);
    expect(plan.rows).toEqual([
      { window: 'long', numPad: 0, pieces: [piece(3, 0, 8, 0, 2)] },
      { window: 'short', numPad: 5, pieces: [piece(3, 8, 3, 1, 2)] },
      { window: 'long', numPad: 2, pieces: [piece(2, 0, 6)] },
      { window: 'short', numPad: 1, pieces: [piece(4, 0, 4), piece(0, 0, 3)] },
      { window: 'short', numPad: 3, pieces: [piece(5, 0, 3), piece(1, 0, 2)] },
    ]);
    // Padding is charged to the cell of each row's longest piece: rows A, C, B to cell 1; D, E to cell 0.
    expect(plan.cells.map((c) => c.padTokens)).toEqual([4, 7]);
    expect(plan.cells[1].splitDocuments).toBe(1);
  });

  // Token ids: document d has ids 100·d + t at its token t (t = 0 stands for BOS); the write stage
  // finds a piece by its document's token offset (100·d) plus the piece's start.
  const readTokens = async (_unit: number, offset: number, target: Int32Array) => target.forEach((_, i) => (target[i] = offset + i));
  const rowPlan = (row: PlannedRow, rowId: number): RowPlan => ({
    rowId,
    window: row.window,
    numPad: row.numPad,
    pieces: row.pieces.map((p) => ({
      unit: 0,
      offsetTokens: 100 * p.doc + p.startToken,
      lengthTokens: p.lengthTokens,
      source: p.doc === 2 || p.doc === 3 ? 'books' : 'web',
      docId: `d${p.doc}`,
      startToken: p.startToken,
      repeat: p.repeat,
      part: p.part,
      parts: p.parts,
    })),
  });

  it('lays out input_ids, doc_lens and position_ids exactly (document attention)', async () => {
    const plan = planPacking(docs, options());
    const rows = await Promise.all(
      plan.rows.map((row, i) => layoutRow(rowPlan(row, i), readTokens, { rowTokens: 8, padId: -1, longRowAttention: 'document' })),
    );
    expect(rows.map((r) => [Array.from(r.inputIds), r.docLens, Array.from(r.positionIds), r.numPad])).toEqual([
      [[300, 301, 302, 303, 304, 305, 306, 307], [8], [0, 1, 2, 3, 4, 5, 6, 7], 0],
      [[308, 309, 310, -1, -1, -1, -1, -1], [3], [0, 1, 2, 0, 0, 0, 0, 0], 5],
      [[200, 201, 202, 203, 204, 205, -1, -1], [6], [0, 1, 2, 3, 4, 5, 0, 0], 2],
      [[400, 401, 402, 403, 0, 1, 2, -1], [4, 3], [0, 1, 2, 3, 0, 1, 2, 0], 1],
      [[500, 501, 502, 100, 101, -1, -1, -1], [3, 2], [0, 1, 2, 0, 1, 0, 0, 0], 3],
    ]);
    expect(rows[1].pieceStart).toEqual([8]);
    expect(rows[1].piecePart).toEqual([1]);
  });

  it('lays out one continuous position range and one doc_lens entry for long rows under full attention', async () => {
    const longDocs = [doc(2, 6, 'long'), doc(6, 2, 'long')];
    // d6 (2 tokens) is not a valid long document on its own, but as a piece it shows the layout:
    // 6 opens the row, 2 fills it.
    const plan = planPacking(longDocs, options());
    expect(plan.rows.length).toBe(1);
    const row = await layoutRow(rowPlan(plan.rows[0], 0), readTokens, { rowTokens: 8, padId: -1, longRowAttention: 'full' });
    expect(Array.from(row.inputIds)).toEqual([200, 201, 202, 203, 204, 205, 600, 601]);
    expect(row.docLens).toEqual([8]);
    expect(row.pieceLens).toEqual([6, 2]);
    expect(Array.from(row.positionIds)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('truncates instead of splitting when asked, counting the tail', () => {
    const plan = planPacking(docs, options({ longDocPolicy: 'truncate' }));
    expect(plan.cells[1]).toMatchObject({ truncatedDocuments: 1, truncatedTokens: 3, splitDocuments: 0 });
    expect(plan.rows.flatMap((r) => r.pieces).filter((p) => p.doc === 3)).toEqual([piece(3, 0, 8, 0, 1, true)]);
  });

  it('splits or truncates short-class documents at the original window', () => {
    const split = planPacking([doc(0, 7, 'short')], options());
    expect(split.rows.flatMap((r) => r.pieces.map((p) => [p.startToken, p.lengthTokens]))).toEqual([
      [0, 4],
      [4, 3],
    ]);
    expect(split.rows.every((r) => r.window === 'short')).toBe(true);
    const cut = planPacking([doc(0, 7, 'short')], options({ shortDocPolicy: 'truncate' }));
    expect(cut.cells[0]).toMatchObject({ truncatedDocuments: 1, truncatedTokens: 3 });
  });

  it('fills long rows from the filler source before packing the rest into short rows', () => {
    // Long 6 leaves 2 free: the filler takes web's 2-token d1. The 3-token remainder of d3 leaves 5
    // free: it takes the 4-token d4. The rest of web (d0, d5) packs into short rows.
    const plan = planPacking(docs, options({ fillerSource: 'web' }));
    const longRow = plan.rows.find((r) => r.pieces.some((p) => p.doc === 2))!;
    expect(longRow.pieces.map((p) => [p.doc, p.lengthTokens])).toEqual([
      [2, 6],
      [1, 2],
    ]);
    expect(longRow.numPad).toBe(0);
    const remainderRow = plan.rows.find((r) => r.pieces.some((p) => p.doc === 3 && p.part === 1))!;
    expect(remainderRow.pieces.map((p) => [p.doc, p.lengthTokens])).toEqual([
      [3, 3],
      [4, 4],
    ]);
    expect(plan.cells[0].fillerTokens).toBe(6);
    expect(plan.rows.flatMap((r) => r.pieces).length).toBe(7);
  });
});

describe('bestFitRows', () => {
  it('puts each piece into the fullest row that still holds it (where first-fit would differ)', () => {
    // Capacity 10, pieces 4, 5, 7, 1 (refs 0..3), taken longest first: 7 opens row 0 (3 free);
    // 5 opens row 1 (5 free); 4 goes to row 1 (1 free; row 0 is too full); 1 goes to row 1,
    // the tightest fit (1 free), where first-fit would have put it into row 0.
    const items = [4, 5, 7, 1].map((lengthTokens, ref) => ({ ref, lengthTokens }));
    expect(bestFitRows(items, 10)).toEqual([
      { refs: [2], usedTokens: 7 },
      { refs: [1, 0, 3], usedTokens: 10 },
    ]);
  });

  it('rejects a piece longer than a row', () => {
    expect(() => bestFitRows([{ ref: 0, lengthTokens: 9 }], 8)).toThrow(/pieces must be 1\.\.8/);
  });
});

describe('packChunked (bounded buffer)', () => {
  it('packs buffer by buffer and keeps at most bufferTokens/capacity rows open', () => {
    // Capacity 10, buffer 20 tokens, so at most 2 rows stay open. Buffer 1 is 6, 6, 9 (21 tokens):
    // rows [9], [6], [6]; the fullest, [9], closes. Buffer 2 (the last) is 4, 4, 1: each 4 completes
    // a 6; the 1 finds no open row with space ([9] is closed) and opens a new row.
    const items = [6, 6, 9, 4, 4, 1].map((lengthTokens, ref) => ({ ref, lengthTokens }));
    const rows = packChunked(items, 10, 20);
    expect(rows).toEqual([
      { refs: [2], usedTokens: 9 },
      { refs: [0, 3], usedTokens: 10 },
      { refs: [1, 4], usedTokens: 10 },
      { refs: [5], usedTokens: 1 },
    ]);
  });

  it('FillerPool hands out the longest piece that fits, in stream order among equals', () => {
    const items = [3, 2, 3, 1].map((lengthTokens, ref) => ({ ref: 10 + ref, lengthTokens }));
    const pool = new FillerPool(items.length, (i) => items[i], 4, 100);
    const row = { refs: [9], usedTokens: 4 };
    pool.fill(row, 10); // 6 free: 3 (ref 10), then 3 (ref 12)
    expect(row).toEqual({ refs: [9, 10, 12], usedTokens: 10 });
    expect(Array.from(pool.remaining(), (i) => items[i].ref)).toEqual([11, 13]);
    expect(Array.from(pool.usedPositions())).toEqual([0, 2]);
  });
});

describe('planPacking properties over random lengths, policies, buffers and seeds', () => {
  it('places every token once or counts it, never over capacity, windows agree with pieces', () => {
    fc.assert(
      fc.property(
        fc.record({
          rowTokens: fc.integer({ min: 4, max: 64 }),
          windowFraction: fc.double({ min: 0.1, max: 1, noNaN: true }),
          bufferRows: fc.integer({ min: 1, max: 8 }),
          seed: fc.nat(),
          longDocPolicy: fc.constantFrom<'split' | 'truncate'>('split', 'truncate'),
          shortDocPolicy: fc.constantFrom<'split' | 'truncate'>('split', 'truncate'),
          filler: fc.boolean(),
          lengths: fc.array(fc.tuple(fc.integer({ min: 2, max: 400 }), fc.boolean()), { minLength: 1, maxLength: 60 }),
        }),
        ({ rowTokens, windowFraction, bufferRows, seed, longDocPolicy, shortDocPolicy, filler, lengths }) => {
          const originalWindowTokens = Math.max(2, Math.floor(rowTokens * windowFraction));
          const docs: PackDoc[] = lengths.map(([len, long], i) =>
            long ? doc(i, originalWindowTokens + 1 + (len % (3 * rowTokens)), 'long') : doc(i, 2 + (len % (2 * originalWindowTokens)), 'short'),
          );
          const plan = planPacking(docs, {
            rowTokens,
            originalWindowTokens,
            seed,
            bufferTokens: bufferRows * rowTokens,
            longDocPolicy,
            shortDocPolicy,
            fillerSource: filler ? 'web' : undefined,
            cellCount: 2,
          });
          const covered = new Map<number, number>();
          for (const row of plan.rows) {
            const used = row.pieces.reduce((s, p) => s + p.lengthTokens, 0);
            expect(used + row.numPad).toBe(rowTokens);
            expect(row.numPad).toBeGreaterThanOrEqual(0);
            const longest = Math.max(...row.pieces.map((p) => p.lengthTokens));
            expect(row.window).toBe(longest > originalWindowTokens ? 'long' : 'short');
            if (!filler) expect(new Set(row.pieces.map((p) => docs[p.doc].window)).size).toBe(1);
            if (row.window === 'short') expect(row.pieces.every((p) => p.lengthTokens <= originalWindowTokens)).toBe(true);
            for (const p of row.pieces) covered.set(p.doc, (covered.get(p.doc) ?? 0) + p.lengthTokens);
          }
          const truncated = plan.cells.reduce((s, c) => s + c.truncatedTokens, 0);
          const placed = [...covered.values()].reduce((s, n) => s + n, 0);
          expect(placed + truncated).toBe(docs.reduce((s, d) => s + d.lengthTokens, 0));
          for (const d of docs) expect(covered.get(d.doc)).toBeGreaterThan(0);
          expect(plan.cells.reduce((s, c) => s + c.padTokens, 0)).toBe(plan.rows.reduce((s, r) => s + r.numPad, 0));
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });
});
