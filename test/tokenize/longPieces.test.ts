import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenizer } from '../../src/tokenize/bpe.ts';
import { buildLlama3Spec } from '../../src/tokenize/llama3.ts';
import { LLAMA3_SPLIT_JS, longestRun } from '../../src/tokenize/longPieces.ts';
import type { Tokenizer } from '../../src/tokenize/tokenizer.ts';
import { sampleCorpus } from '../../scripts/sampleCorpus.ts';
import { sharedSampleDocs, skipWithoutSharedSamples } from '../helpers/sharedSamples.ts';

let whole: Tokenizer; // production thresholds: ordinary documents go to tiktoken whole
let forced: Tokenizer; // every document piecewise, every piece of 6+ chars through llama3-tokenizer-js
beforeAll(async () => {
  const spec = await buildLlama3Spec();
  whole = createTokenizer(spec);
  forced = createTokenizer(spec, { guardRunChars: 0, longPieceChars: 6 });
});
afterAll(() => {
  whole.free();
  forced.free();
});

const pathological: [string, string][] = [
  ['a run of one letter', 'x '.repeat(10) + 'a'.repeat(3000) + ' end'],
  ['a run of spaces', 'word' + ' '.repeat(3000) + 'x\n'],
  ['a run of punctuation', '====' + '='.repeat(2500) + '\n\n'],
  ['unbroken CJK', '東京'.repeat(1500)],
  ['a run of newlines and CRLF', 'a' + '\r\n'.repeat(1500) + 'b'],
  ['special strings next to a long run', '<|end_of_text|>' + 'z'.repeat(2500) + '<|begin_of_text|>'],
  ['contractions, U+017F and U+FEFF', "I'm it's we'll THEY'RE 'ſ \uFEFFword \u0085 x\u00a0y " + 'q'.repeat(2100)],
];

describe('piecewise tokenization (long pre-tokenizer pieces)', () => {
  it.each(pathological)('gives tiktoken ids exactly on %s', async (_name, text) => {
    expect(longestRun(text)).toBeGreaterThanOrEqual(1500);
    expect(Array.from(await forced.encodeOrdinary(text))).toEqual(Array.from(await whole.encodeOrdinary(text)));
  });

  it('encodes 400,000 repeated characters and 40,000 CJK characters (too slow for tiktoken alone)', async () => {
    const eight = Array.from(await whole.encodeOrdinary('aaaaaaaa'));
    expect(eight.length).toBe(1);
    const ids = await whole.encodeOrdinary('a'.repeat(400_000));
    expect(ids.length).toBe(50_000);
    expect(ids.every((id) => id === eight[0])).toBe(true);
    const cjk = await whole.encodeOrdinary('東'.repeat(40_000));
    expect(whole.decode(cjk)).toBe('東'.repeat(40_000));
  });

  it('splits like the reference pattern: pieces concatenate back to the text', () => {
    const text = sampleCorpus()
      .map((f) => String(f.records[0].text ?? f.records[0].content))
      .join('\n');
    expect([...text.matchAll(LLAMA3_SPLIT_JS)].map((m) => m[0]).join('')).toBe(text);
  });

  it('gives tiktoken ids on every document of the sample corpus, forced piecewise', async () => {
    for (const file of sampleCorpus()) {
      for (const r of file.records) {
        const text = String(r.text ?? r.content);
        expect(Array.from(await forced.encodeOrdinary(text)), file.path).toEqual(Array.from(await whole.encodeOrdinary(text)));
      }
    }
  });

  it.skipIf(skipWithoutSharedSamples)('gives tiktoken ids on every document of ../shared/samples, forced piecewise', async () => {
    for (const doc of await sharedSampleDocs()) {
      expect(Array.from(await forced.encodeOrdinary(doc.text)), doc.id).toEqual(Array.from(await whole.encodeOrdinary(doc.text)));
    }
  });
});
