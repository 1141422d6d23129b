import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/manifest/types.ts';
import { OUTSIDE_BUCKETS, RowStatsCollector, countHistogram } from '../../src/report/rowStats.ts';
import type { RowRecord } from '../../src/shard/schema.ts';

const cell = (bucket: string, min: number, max: number) => ({ bucket, min, max });
// Only what the collector reads: rows.total, the filler source, each source's buckets, the recipe's source order.
const manifest = {
  rows: { total: 3 },
  geometry: { longRowFiller: 'edu' },
  recipe: { resolved: { sources: [{ name: 'papers' }, { name: 'edu' }] } },
  sources: {
    edu: { cells: [cell('2-512', 2, 512)] },
    papers: { cells: [cell('mid', 513, 2048), cell('long', 2049, 16384)] },
  },
} as unknown as Manifest;

type Piece = [source: string, docId: string, lengthTokens: number, repeat: number, part: number, parts: number];
function row(rowId: number, window: 'short' | 'long', numPad: number, pieces: Piece[]): RowRecord {
  const at = (k: number) => pieces.map((p) => p[k]);
  return {
    rowId,
    window,
    numPad,
    inputIds: new Int32Array(0),
    positionIds: new Int32Array(0),
    docLens: at(2) as number[],
    pieceLens: at(2) as number[],
    pieceSource: at(0) as string[],
    pieceDocId: at(1) as string[],
    pieceStart: pieces.map(() => 0),
    pieceRepeat: at(3) as number[],
    piecePart: at(4) as number[],
    pieceParts: at(5) as number[],
  };
}

describe('row statistics from shard rows', () => {
  it('joins split documents across rows, counts filler in long rows, and bins lengths by cell', () => {
    const c = new RowStatsCollector(manifest);
    // Row 2 (read first: rows come in shard order, not row_id order): the second part of a
    // 5,000-token paper, a 1,000-token paper, and a 96-token edu document as filler.
    c.add(
      row(2, 'long', 0, [
        ['papers', 'p:1', 3000, 0, 1, 2],
        ['papers', 'p:2', 1000, 0, 0, 1],
        ['edu', 'e:1', 96, 0, 0, 1],
      ]),
    );
    // Row 0: the first part of that paper (4,096 tokens) fills it.
    c.add(row(0, 'long', 0, [['papers', 'p:1', 2000, 0, 0, 2]]));
    // Row 1: a short row of edu documents, one of them used a second time, and padding; the
    // second part of a 3-part paper whose other parts are not in the kept rows.
    c.add(
      row(1, 'short', 90, [
        ['edu', 'e:1', 96, 1, 0, 1],
        ['edu', 'e:2', 10, 0, 0, 1],
        ['papers', 'p:3', 400, 0, 1, 3],
      ]),
    );
    const stats = c.finish();
    expect(stats.rows).toEqual({
      window: ['long', 'short', 'long'],
      padTokens: [0, 90, 0],
      pieces: [1, 3, 3],
      fillerTokens: [0, 0, 96],
    });
    expect(stats.splitUses).toEqual({ papers: 2, edu: 0 });
    // papers: p:1 whole (5,000 tokens: long bucket), p:2 (1,000: mid), p:3 only 400 kept: in no bucket.
    expect(stats.lengths).toEqual([
      {
        source: 'papers',
        uses: 3,
        incompleteUses: 1,
        bins: [
          { start: 896, end: 1024, bucket: 'mid', documents: 1 },
          { start: 4096, end: 5120, bucket: 'long', documents: 1 },
          { start: 384, end: 448, bucket: OUTSIDE_BUCKETS, documents: 1 },
        ],
      },
      {
        source: 'edu',
        uses: 3,
        incompleteUses: 0,
        bins: [
          { start: 10, end: 12, bucket: '2-512', documents: 1 },
          { start: 96, end: 112, bucket: '2-512', documents: 2 },
        ],
      },
    ]);
  });

  it('histograms a per-row count by window, 0 in a bin of its own', () => {
    expect(countHistogram([0, 90, 0, 3], ['long', 'short', 'long', 'short'])).toEqual([
      { start: 0, end: 1, window: 'long', rows: 2 },
      { start: 3, end: 4, window: 'short', rows: 1 },
      { start: 80, end: 96, window: 'short', rows: 1 },
    ]);
  });
});
