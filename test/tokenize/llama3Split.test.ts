import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forEachLlama3Piece } from '../../src/tokenize/llama3Split.ts';
import { sampleCorpus } from '../../scripts/sampleCorpus.ts';
import { sharedSampleDocs, skipWithoutSharedSamples } from '../helpers/sharedSamples.ts';
import { anyText } from './adversarialAlphabet.ts';

/**
 * Reference: Meta's LLaMA-3 pattern in JavaScript regex syntax (flags `gu`): the case-insensitive
 * group spelled out (with U+017F, which case-folds to `s`), `\s` as `\p{White_Space}` (JavaScript's
 * `\s` also matches U+FEFF and misses U+0085). V8 overflows its stack on runs of millions of
 * astral-capable class characters, so it serves on short texts only.
 */
const LLAMA3_SPLIT_JS = new RegExp(
  [
    "'(?:[sS\\u017F]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])",
    '[^\\r\\n\\p{L}\\p{N}]?\\p{L}+',
    '\\p{N}{1,3}',
    ' ?[^\\p{White_Space}\\p{L}\\p{N}]+[\\r\\n]*',
    '\\p{White_Space}*[\\r\\n]+',
    '\\p{White_Space}+(?!\\P{White_Space})',
    '\\p{White_Space}+',
  ].join('|'),
  'gu',
);

/**
 * Code points Node 20.20's Unicode 17 tables class as numbers but tiktoken's regex (and so the
 * scanner, scripts/gen-unicode-classes.ts) does not: the regex above is no reference for them
 * (test/tokenize/bpe.test.ts compares ids around every code point with tiktoken itself).
 */
const NEWER_THAN_TIKTOKEN = /[\u{11de0}-\u{11de9}\u{16ff4}-\u{16ff6}]/u;

const pieces = (text: string) => {
  const out: string[] = [];
  forEachLlama3Piece(text, (start, end) => out.push(text.slice(start, end)));
  return out;
};
const regexPieces = (text: string) => [...text.matchAll(LLAMA3_SPLIT_JS)].map((m) => m[0]);

describe('LLaMA-3 pre-tokenizer scanner', () => {
  it('classes the Unicode 17 numbers as tiktoken does (other), not as the regex here does', () => {
    expect(pieces('1\u{11de0}\u{11de1}')).toEqual(['1', '\u{11de0}\u{11de1}']);
    expect(regexPieces('1\u{11de0}\u{11de1}')).toEqual(['1\u{11de0}\u{11de1}']);
  });

  it('cuts known text as the pattern does', () => {
    expect(pieces("I'm here: 12345 apples,\n\n  x  \t\r\nwe'LL  go ſ's ")).toEqual([
      'I',
      "'m",
      ' here',
      ':',
      ' ',
      '123',
      '45',
      ' apples',
      ',\n\n',
      ' ',
      ' x',
      '  \t\r\n',
      'we',
      "'LL",
      ' ',
      ' go',
      ' ſ',
      "'s",
      ' ',
    ]);
  });

  it('gives the regex pieces on generated adversarial text', () => {
    fc.assert(
      fc.property(anyText(), (raw) => {
        const text = raw.toWellFormed();
        fc.pre(!NEWER_THAN_TIKTOKEN.test(text));
        expect(pieces(text)).toEqual(regexPieces(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the regex pieces on every document of the sample corpus', () => {
    for (const file of sampleCorpus()) {
      for (const r of file.records) {
        const text = String(r.text ?? r.content);
        expect(pieces(text), file.path).toEqual(regexPieces(text));
      }
    }
  });

  it.skipIf(skipWithoutSharedSamples)('gives the regex pieces on every document of ../shared/samples', async () => {
    for (const doc of await sharedSampleDocs()) expect(pieces(doc.text), doc.id).toEqual(regexPieces(doc.text));
  });

  // The regex throws "Maximum call stack size exceeded" on several of these; the scanner's counts
  // follow from the pattern (e.g. digits come in threes, a white-space run before a letter leaves
  // its last space to the letter).
  it.each([
    ['a', 'a'.repeat(16e6), [16e6]],
    ['東', '東'.repeat(16e6), [16e6]],
    ['🙂', '🙂'.repeat(8e6), [16e6]],
    ['combining marks', 'a' + '\u0301'.repeat(16e6), [1, 16e6]],
    ['spaces', ' '.repeat(16e6) + 'x', [16e6 - 1, 2]],
    ['newlines', '\n'.repeat(16e6), [16e6]],
    ['^ then newlines', ' ' + '^'.repeat(8e6) + '\n'.repeat(8e6), [16e6 + 1]],
  ])('splits 16 M characters of %s in bounded stack', (_name, text, lengths) => {
    const got: number[] = [];
    forEachLlama3Piece(text, (start, end) => got.push(end - start));
    expect(got).toEqual(lengths);
  });

  it('splits 16 M digits into pieces of three', () => {
    let count = 0;
    let last = 0;
    forEachLlama3Piece('7'.repeat(16e6), (start, end) => {
      count++;
      last = end - start;
    });
    expect([count, last]).toEqual([5_333_334, 1]);
  });
});
