import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import llama3js from 'llama3-tokenizer-js';
import { buildLlama3Spec, LLAMA3_RANKS_SHA256 } from '../../src/tokenize/llama3.ts';
import { createTokenizer } from '../../src/tokenize/bpe.ts';
import type { TiktokenSpec, Tokenizer } from '../../src/tokenize/tokenizer.ts';
import { TokenizerPool } from '../../src/tokenize/pool.ts';
import { sharedSampleDocs, skipWithoutSharedSamples } from '../helpers/sharedSamples.ts';

let spec: TiktokenSpec;
let tokenizer: Tokenizer;
beforeAll(async () => {
  spec = await buildLlama3Spec();
  tokenizer = createTokenizer(spec);
});
afterAll(() => tokenizer.free());

describe('LLaMA-3 tokenizer', () => {
  it("rebuilds Meta's ranks file byte for byte and has the model's special ids", () => {
    expect(spec.identity.vocabularySha256).toBe(LLAMA3_RANKS_SHA256);
    expect(spec.ranks.length).toBe(2_183_982);
    expect(spec.identity).toMatchObject({ vocabSize: 128_256, bosId: 128_000, eosId: 128_001, padId: 128_004 });
    expect(spec.specialTokens['<|eot_id|>']).toBe(128_009);
  });

  it('encodes known text to known ids and adds BOS/EOS as ids', async () => {
    expect(Array.from(await tokenizer.encodeOrdinary('Hello world!'))).toEqual([9906, 1917, 0]);
    expect(Array.from(await tokenizer.encodeDocument('Hello world!'))).toEqual([128_000, 9906, 1917, 0, 128_001]);
    expect(tokenizer.decode([128_000, 9906, 1917, 0])).toBe('<|begin_of_text|>Hello world!');
  });

  it('treats literal special-token strings in text as ordinary text, never as control ids', async () => {
    const ids = Array.from(await tokenizer.encodeOrdinary('A<|end_of_text|>B <|begin_of_text|> C<|eot_id|>'));
    expect(ids.every((id) => id < 128_000)).toBe(true);
    expect(ids).toEqual([32, 27, 91, 408, 3659, 4424, 91, 29, 33, 83739, 7413, 3659, 4424, 91, 29, 356, 27, 91, 68, 354, 851, 91, 29]);
    expect(tokenizer.decode(ids)).toBe('A<|end_of_text|>B <|begin_of_text|> C<|eot_id|>');
  });

  it.skipIf(skipWithoutSharedSamples)(
    'gives the same ids as llama3-tokenizer-js (an independent BPE implementation) on every document of ../shared/samples',
    async () => {
      const docs = await sharedSampleDocs();
      expect(docs.length).toBe(102);
      let tokens = 0;
      for (const doc of docs) {
        const ours = Array.from(await tokenizer.encodeOrdinary(doc.text));
        const theirs = llama3js.encode(doc.text, { bos: false, eos: false });
        expect(ours, doc.id).toEqual(theirs);
        tokens += ours.length;
      }
      expect(tokens).toBe(815_479);
    },
  );

  it('returns the same ids from a pool of worker threads, in input order', async () => {
    const pool = new TokenizerPool(spec, 2);
    try {
      const texts = ['Hello world!', '', 'A<|end_of_text|>B', 'x'.repeat(1000), 'Zürich 東京 🙂'];
      async function* docs() {
        for (const [i, text] of texts.entries()) yield { source: 's', id: String(i), text };
      }
      const out: { id: string; ids: Int32Array }[] = [];
      for await (const d of pool.tokenize(docs())) out.push(d);
      expect(out.map((d) => d.id)).toEqual(['0', '1', '2', '3', '4']);
      for (const [i, text] of texts.entries()) expect(Array.from(out[i].ids)).toEqual(Array.from(await tokenizer.encodeDocument(text)));
    } finally {
      await pool.close();
    }
  });
});
