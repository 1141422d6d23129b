import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHfBpe } from '../../src/tokenize/hfBpe.ts';
import { buildLlama3Spec } from '../../src/tokenize/llama3.ts';
import { buildPhi3Spec } from '../../src/tokenize/phi3.ts';
import { parseRanks } from '../../src/tokenize/rankTables.ts';
import { createTokenizerFromSpec } from '../../src/tokenize/registry.ts';
import { llama3MaxDocumentTokens, maxDocumentTokens, phi3MaxDocumentTokens } from '../../src/tokenize/tokenBound.ts';
import type { HfJsonSpec, TiktokenSpec, Tokenizer } from '../../src/tokenize/tokenizer.ts';
import { adversarialText, anyText } from './adversarialAlphabet.ts';

let llama3Spec: TiktokenSpec;
let phi3Spec: HfJsonSpec;
let llama3: Tokenizer;
let phi3: Tokenizer;
beforeAll(async () => {
  [llama3Spec, phi3Spec] = await Promise.all([buildLlama3Spec(), buildPhi3Spec()]);
  llama3 = createTokenizerFromSpec(llama3Spec);
  phi3 = createTokenizerFromSpec(phi3Spec);
});
afterAll(() => {
  llama3.free();
  phi3.free();
});

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('token bounds from UTF-8 bytes', () => {
  it('hold with equality where the proof says they are tight', async () => {
    expect((await llama3.encodeDocument('a')).length).toBe(llama3MaxDocumentTokens(1)); // 3
    expect((await phi3.encodeDocument('🙂')).length).toBe(phi3MaxDocumentTokens(4)); // 7
    expect((await phi3.encodeDocument('')).length).toBe(phi3MaxDocumentTokens(0)); // 2
    expect([llama3MaxDocumentTokens(0), llama3MaxDocumentTokens(10), phi3MaxDocumentTokens(10)]).toEqual([2, 12, 13]);
  });

  it('rest on premises that hold for the pinned vocabularies', () => {
    // LLaMA-3: every rank has at least one byte (parseRanks throws otherwise).
    const ranks = parseRanks(llama3Spec.ranks);
    expect(ranks.length).toBe(128_000);
    for (const bytes of ranks) expect(bytes.length).toBeGreaterThan(0);
    // Phi-3: "▁" has an id; ./hfBpe.ts accepts the model only with all 256 byte pieces and every
    // merge's parts and result in the vocabulary.
    const model = JSON.parse(phi3Spec.tokenizerJson).model;
    expect(model.vocab['▁']).toBe(29_871);
    expect(model.byte_fallback).toBe(true);
    expect(createHfBpe(model)).toBeDefined();
  });

  it('are never exceeded on random and adversarial text (both tokenizers)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyText(), adversarialText(200, 400)), async (text) => {
        const b = bytes(text);
        expect((await llama3.encodeDocument(text)).length).toBeLessThanOrEqual(maxDocumentTokens(llama3Spec.identity, b));
        expect((await phi3.encodeDocument(text)).length).toBeLessThanOrEqual(maxDocumentTokens(phi3Spec.identity, b));
      }),
      { numRuns: 1500 },
    );
  });

  it.each([
    ['a space before every byte-fallback character', ' 🙂'.repeat(20_000)],
    ['lone ▁ and spaces', '▁ '.repeat(20_000)],
    ['NFD accents', 'e\u0301'.repeat(20_000)],
    ['special-token strings', '<s></s><|endoftext|><|end_of_text|>'.repeat(2_000)],
    ['unassigned and private-use code points', '\u{e0001}\u{10ffff}\u{f0000}\u0378'.repeat(5_000)],
    ['lone surrogates', '\ud800x\udc00'.repeat(10_000)],
  ])('are never exceeded on %s', async (_name, text) => {
    const b = bytes(text);
    expect((await llama3.encodeDocument(text)).length).toBeLessThanOrEqual(llama3MaxDocumentTokens(b));
    expect((await phi3.encodeDocument(text)).length).toBeLessThanOrEqual(phi3MaxDocumentTokens(b));
  });

  it('are refused for a vocabulary they were not proven for, and for bad byte counts', () => {
    expect(() => maxDocumentTokens({ name: 'llama3', vocabularySha256: '0'.repeat(64) }, 5)).toThrow(RangeError);
    expect(() => maxDocumentTokens({ name: 'gpt2', vocabularySha256: '0'.repeat(64) }, 5)).toThrow(RangeError);
    expect(() => llama3MaxDocumentTokens(-1)).toThrow(RangeError);
    expect(() => phi3MaxDocumentTokens(1.5)).toThrow(RangeError);
  });
});
