import fc from 'fast-check';
import { Tiktoken } from 'tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLlama3Spec } from '../../src/tokenize/llama3.ts';
import { forEachLlama3Piece, isLlama3Space } from '../../src/tokenize/llama3Split.ts';
import { createLongPieceEncoder, isLongPiece, LONG_PIECE_BYTES, type LongPieceEncoder } from '../../src/tokenize/longPieces.ts';
import { createTiktokenEncoder } from '../../src/tokenize/tiktokenEncoder.ts';
import { sampleCorpus } from '../../scripts/sampleCorpus.ts';
import { adversarialText, anyText } from './adversarialAlphabet.ts';

let wasm: Tiktoken; // tiktoken alone, on whole texts: the reference
let longPiece: LongPieceEncoder;
beforeAll(async () => {
  const spec = await buildLlama3Spec();
  wasm = new Tiktoken(spec.ranks, spec.specialTokens, spec.pattern);
  longPiece = createLongPieceEncoder(spec.ranks);
});
afterAll(() => wasm.free());

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const pieces = (text: string) => {
  const out: string[] = [];
  forEachLlama3Piece(text, (start, end) => out.push(text.slice(start, end)));
  return out;
};
const corpusTexts = () => sampleCorpus().flatMap((f) => f.records.map((r) => String(r.text ?? r.content)));

/** An encoder whose library calls are recorded. */
function spied(options: Parameters<typeof createTiktokenEncoder>[2]) {
  const calls: string[] = [];
  const encoder = createTiktokenEncoder(
    (text) => {
      calls.push(text);
      return wasm.encode_ordinary(text);
    },
    longPiece,
    options,
  );
  return { encoder, calls };
}

describe('tiktoken behind the piece cache', () => {
  it('needs the white-space rule: tiktoken joins pieces that a stretch cut after white space would give it', () => {
    // In the text, the two tabs are two pieces ("\t" before "\\x" stays alone); "\t\t" alone is one.
    expect(pieces('\t\t\\x')).toEqual(['\t', '\t', '\\x']);
    expect(Array.from(wasm.encode_ordinary('\t\t'))).not.toEqual([...wasm.encode_ordinary('\t'), ...wasm.encode_ordinary('\t')]);
    const { encoder, calls } = spied({ pieceCacheEntries: 0, maxStretchChars: 2 });
    expect(Array.from(encoder.encode('\t\t\\x'))).toEqual(Array.from(wasm.encode_ordinary('\t\t\\x')));
    expect(calls).toEqual(['\t', '\t', '\\x']);
  });

  it('gives tiktoken’s ids with stretches cut after any piece, with and without the cache', () => {
    const texts = corpusTexts().slice(0, 40);
    for (const maxStretchChars of [1, 2, 3, 7, 64, 1000]) {
      for (const pieceCacheEntries of [0, 2, 1024]) {
        const { encoder, calls } = spied({ pieceCacheEntries, maxStretchChars });
        for (const text of texts) {
          calls.length = 0;
          expect(Array.from(encoder.encode(text)), `${maxStretchChars} ${pieceCacheEntries}`).toEqual(Array.from(wasm.encode_ordinary(text)));
          // Every call is one piece, ends in a character that is not white space, or ends the text.
          for (const call of calls) {
            const last = call.charCodeAt(call.length - 1);
            if (isLlama3Space(last) && pieces(call).length > 1) expect(text.endsWith(call)).toBe(true);
          }
        }
      }
    }
  });

  it('gives tiktoken’s ids on generated adversarial text, short runs and long, with stretches cut anywhere', () => {
    const encoders = [
      createTiktokenEncoder((t) => wasm.encode_ordinary(t), longPiece),
      createTiktokenEncoder((t) => wasm.encode_ordinary(t), longPiece, { pieceCacheEntries: 0 }),
      createTiktokenEncoder((t) => wasm.encode_ordinary(t), longPiece, { pieceCacheEntries: 0, maxStretchChars: 5 }),
    ];
    fc.assert(
      fc.property(fc.oneof(anyText(), adversarialText(8, 200)), (text) => {
        const want = Array.from(wasm.encode_ordinary(text));
        for (const encoder of encoders) expect(Array.from(encoder.encode(text))).toEqual(want);
      }),
      { numRuns: 1000 },
    );
  });

  it('never gives tiktoken a piece of 128 UTF-8 bytes or more (where its BPE is quadratic)', () => {
    const { encoder, calls } = spied({ pieceCacheEntries: 0 });
    fc.assert(
      fc.property(adversarialText(8, 300), (text) => {
        calls.length = 0;
        encoder.encode(text);
        for (const call of calls) for (const piece of pieces(call)) expect(utf8Bytes(piece)).toBeLessThan(128);
      }),
      { numRuns: 300 },
    );
  });

  it('splits at 128 UTF-8 bytes and gives tiktoken’s ids on both sides of it', () => {
    expect(LONG_PIECE_BYTES).toBe(128);
    const cases: [string, boolean][] = [
      ['a'.repeat(127), false],
      ['a'.repeat(128), true],
      [' ' + '東'.repeat(42), false], // 127 bytes
      ['東'.repeat(43), true], // 129 bytes
      ['🙂'.repeat(31), false], // 124 bytes
      ['🙂'.repeat(32), true], // 128 bytes
      ['б'.repeat(63), false],
      ['б'.repeat(64), true],
      [' '.repeat(128), true], // a token of its own (rank 58040): looked up whole, as tiktoken does
    ];
    for (const [piece, long] of cases) {
      expect(pieces(piece), piece).toEqual([piece]);
      expect(isLongPiece(piece, 0, piece.length), piece).toBe(long);
      expect(utf8Bytes(piece) >= LONG_PIECE_BYTES).toBe(long);
      const want = Array.from(wasm.encode_ordinary(piece));
      if (long) expect(Array.from(longPiece(piece)), piece).toEqual(want);
      const encoder = createTiktokenEncoder((t) => wasm.encode_ordinary(t), longPiece);
      expect(Array.from(encoder.encode(`x${piece}\n${piece}x`)), piece).toEqual(Array.from(wasm.encode_ordinary(`x${piece}\n${piece}x`)));
    }
    expect(Array.from(longPiece(' '.repeat(128)))).toEqual([58_040]);
  });
});
