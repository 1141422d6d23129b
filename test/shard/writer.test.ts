import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, InvariantError } from '../../src/core/errors.ts';
import { SplitMix64 } from '../../src/core/rng.ts';
import { shardRows } from '../../src/shard/reader.ts';
import { shardSchema, type RowRecord } from '../../src/shard/schema.ts';
import { pieceBytes, rowBytes, shardBytes } from '../../src/shard/limits.ts';
import { ShardWriter } from '../../src/shard/writer.ts';
import { readFile } from 'node:fs/promises';
import { removeTempDirs, tempDir } from '../helpers/build.ts';

afterAll(removeTempDirs);

const ROW = 16;
const VOCAB = 100;

/** A valid row of ROW tokens: pieces of the given lengths (ids 1..), then padding 0. */
function row(rowId: number, lens: number[], docId = (p: number) => `doc-${rowId}-${p}`): RowRecord {
  const used = lens.reduce((s, x) => s + x, 0);
  const inputIds = new Int32Array(ROW);
  const positionIds = new Int32Array(ROW);
  let at = 0;
  for (const len of lens) for (let i = 0; i < len; i++, at++) [inputIds[at], positionIds[at]] = [1 + (at % 50), i];
  return {
    rowId,
    window: 'short',
    inputIds,
    positionIds,
    docLens: lens.slice(),
    numPad: ROW - used,
    pieceLens: lens.slice(),
    pieceSource: lens.map(() => 'web'),
    pieceDocId: lens.map((_, p) => docId(p)),
    pieceStart: lens.map(() => 0),
    pieceRepeat: lens.map(() => 0),
    piecePart: lens.map(() => 0),
    pieceParts: lens.map(() => 1),
  };
}

async function writer(maxBytes?: number) {
  const file = path.join(await tempDir(), 'shard.arrow.tmp');
  return { file, writer: new ShardWriter(file, 'shard-00000-abcdef12.arrow', shardSchema(ROW, {}), ROW, 0, { vocabSize: VOCAB, maxBytes }) };
}

describe('ShardWriter refuses malformed rows (nothing reaches the file)', () => {
  const cases: [string, (r: RowRecord) => void, string][] = [
    ['position_ids shorter than the row', (r) => (r.positionIds = r.positionIds.subarray(0, 10)), 'position_ids has 10 values, expected rowTokens 16'],
    ['input_ids longer than the row', (r) => (r.inputIds = new Int32Array(17)), 'input_ids has 17 values, expected rowTokens 16'],
    ['a token id equal to the vocabulary size', (r) => (r.inputIds[3] = VOCAB), 'input_ids[3] = 100 is outside the vocabulary [0, 100)'],
    ['a negative token id', (r) => (r.inputIds[15] = -1), 'input_ids[15] = -1 is outside the vocabulary [0, 100)'],
    ['a piece list shorter than piece_lens', (r) => r.pieceDocId.pop(), 'piece_doc_id has 1 entries, piece_lens has 2'],
    ['pieces and padding that do not make the row', (r) => (r.numPad = 0), 'sum(piece_lens) 9 + num_pad 0 != rowTokens 16'],
    ['doc_lens that do not cover the pieces', (r) => (r.docLens = [4]), 'doc_lens [4] does not split the 9 piece tokens into positive segments'],
    ['a part number past the parts', (r) => (r.piecePart[1] = 1), 'piece 1 is part 1 of 1'],
  ];
  for (const [what, edit, problem] of cases) {
    it(what, async () => {
      const { file, writer: w } = await writer();
      const bad = row(7, [4, 5]);
      edit(bad);
      const error = (() => {
        try {
          w.write([row(6, [16]), bad]);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(InvariantError);
      expect((error as Error).message).toBe(`shard-00000-abcdef12.arrow row 7: refusing to write the row: ${problem}`);
      await w.abort();
      expect(existsSync(file)).toBe(false);
    });
  }

  it('writes valid rows that read back the same', async () => {
    const { file, writer: w } = await writer();
    const rows = [row(0, [16]), row(1, [4, 5])];
    w.write(rows);
    const info = await w.close();
    const back = [...shardRows(await readFile(file), 'shard')];
    expect(back.map((r) => [r.rowId, Array.from(r.inputIds), r.pieceLens, r.numPad])).toEqual(
      rows.map((r) => [r.rowId, Array.from(r.inputIds), r.pieceLens, r.numPad]),
    );
    expect(info.sizeBytes).toBe((await stat(file)).size);
  });
});

describe('ShardWriter enforces the byte limit on the bytes it writes', () => {
  it('fails naming the shard and the fix before the file passes the limit, and leaves no file', async () => {
    // A record batch of one row of 16 tokens with one piece is about 1.9 KB (mostly message
    // header) after a schema message of about 1.3 KB: a limit of 6,000 bytes takes the schema and
    // two such batches, not a third whose two document ids hold 4,000 bytes.
    const limit = 6000;
    const { file, writer: w } = await writer(limit);
    w.write([row(0, [16])]);
    w.write([row(1, [16])]);
    let error: unknown;
    try {
      w.write([row(2, [8, 8], () => 'x'.repeat(2000))]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      /^shard-00000-abcdef12\.arrow: rows 2\.\.2 would take the shard to \d+ bytes, past its limit of 6000 bytes \(readers stop at 2 GiB\); nothing past the limit was written\. .*lower output\.targetShardBytes/,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await stat(file)).size).toBeLessThanOrEqual(limit);
    await w.abort();
    expect(existsSync(file)).toBe(false);
  });
});

describe('the planner estimate bounds the bytes written', () => {
  it('over random rows, piece counts, id lengths and batch sizes', async () => {
    const rng = new SplitMix64(42n);
    const int = (n: number) => Number(rng.next() % BigInt(n));
    for (let trial = 0; trial < 40; trial++) {
      const rowsPerBatch = 1 + int(4);
      const rows = Array.from({ length: 1 + int(12) }, (_, i) => {
        const pieces = 1 + int(ROW);
        const lens = Array.from({ length: pieces }, () => 1);
        lens[0] += ROW - pieces - int(ROW - pieces + 1);
        return row(i, lens, (p) => '\u00e9'.repeat(int(3 * (p + 1) * (trial % 5) + 1)));
      });
      const { file, writer: w } = await writer();
      for (let s = 0; s < rows.length; s += rowsPerBatch) w.write(rows.slice(s, s + rowsPerBatch));
      const info = await w.close();
      const estimate = shardBytes(
        rows.map((r) =>
          rowBytes(
            ROW,
            r.pieceDocId.reduce((sum, id, p) => sum + pieceBytes(r.pieceSource[p], id), 0),
          ),
        ),
        rowsPerBatch,
      );
      expect(estimate, `trial ${trial}`).toBeGreaterThanOrEqual(info.sizeBytes);
      expect((await stat(file)).size).toBe(info.sizeBytes);
    }
  });
});
