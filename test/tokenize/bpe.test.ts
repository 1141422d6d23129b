import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { Tiktoken } from 'tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenizer } from '../../src/tokenize/bpe.ts';
import { buildLlama3Spec } from '../../src/tokenize/llama3.ts';
import type { TiktokenSpec, Tokenizer } from '../../src/tokenize/tokenizer.ts';
import { HEADLINE_TEXTS, MIXED_TEXTS, THRESHOLD_TEXTS, makeAdversarialText, type AdversarialText } from '../../scripts/adversarialTexts.ts';
import { sampleCorpus } from '../../scripts/sampleCorpus.ts';
import { sharedSampleDocs, skipWithoutSharedSamples } from '../helpers/sharedSamples.ts';
import { anyText } from './adversarialAlphabet.ts';

// Native tiktoken 0.14.0's ids for the adversarial texts (scripts/record-native-fixtures.ts).
const NATIVE = JSON.parse(readFileSync(new URL('./fixtures/native-tiktoken-llama3.json', import.meta.url), 'utf8')) as {
  ranksSha256: string;
  inputs: Record<string, { chars: number; tokens?: number; error?: string; textSha256?: string; idsSha256?: string; head?: number[]; tail?: number[] }>;
};

let spec: TiktokenSpec;
let ours: Tokenizer;
let wasm: Tiktoken; // tiktoken 1.0.22 (WASM) alone on whole texts: exact, but quadratic in the length of a piece
beforeAll(async () => {
  spec = await buildLlama3Spec();
  ours = createTokenizer(spec);
  wasm = new Tiktoken(spec.ranks, spec.specialTokens, spec.pattern);
});
afterAll(() => {
  ours.free();
  wasm.free();
});

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const expectSameAsWasm = async (text: string, label?: string) =>
  expect(Array.from(await ours.encodeOrdinary(text)), label).toEqual(Array.from(wasm.encode_ordinary(text)));
/** The same text with every run 1/1000 as long (at least 1): short enough for tiktoken WASM. */
const scaledDown = (t: AdversarialText): AdversarialText =>
  t.kind === 'runs' ? { ...t, runs: t.runs.map(([unit, n]) => [unit, Math.max(1, Math.ceil(n / 1000))]) } : { ...t, n: Math.ceil(t.n / 1000) };

describe('LLaMA-3 ids computed in JavaScript', () => {
  it.skipIf(skipWithoutSharedSamples)('equal tiktoken (WASM) on every document of ../shared/samples', async () => {
    for (const doc of await sharedSampleDocs()) await expectSameAsWasm(doc.text, doc.id);
  });

  it('equal tiktoken (WASM) on every document of the sample corpus', async () => {
    for (const file of sampleCorpus()) for (const r of file.records) await expectSameAsWasm(String(r.text ?? r.content), file.path);
  });

  it('equal tiktoken (WASM) on generated adversarial text, lone surrogates included', async () => {
    await fc.assert(
      fc.asyncProperty(anyText(), async (text) => {
        await expectSameAsWasm(text);
      }),
      { numRuns: 1500 },
    );
    await expectSameAsWasm('\ud800abc\udc00 x\ud83d');
  });

  it('equal tiktoken (WASM) around every code point of planes 0–3 and 14', async () => {
    for (const [from, to] of [
      [0, 0x40000],
      [0xe0000, 0xf0000],
    ]) {
      for (let block = from; block < to; block += 2048) {
        const parts: string[] = [];
        for (let cp = block; cp < block + 2048; cp++) {
          if (cp >= 0xd800 && cp <= 0xdfff) continue;
          const c = String.fromCodePoint(cp);
          parts.push('a' + c + '1' + c + ' ' + c + c + "'" + c + '\n' + c + 'x ');
        }
        await expectSameAsWasm(parts.join(''), `block U+${block.toString(16)}`);
      }
    }
  }, 600_000);

  it('equal tiktoken (WASM) on the adversarial texts scaled down 1000×', async () => {
    for (const t of [...HEADLINE_TEXTS, ...MIXED_TEXTS]) await expectSameAsWasm(makeAdversarialText(scaledDown(t)), t.name);
  });

  it('equal tiktoken (WASM) on pieces just short of the long-piece threshold, at full size', async () => {
    for (const t of THRESHOLD_TEXTS) await expectSameAsWasm(makeAdversarialText(t), t.name);
  });

  it('give the same ids with no piece cache and with a 2-entry cache', async () => {
    const none = createTokenizer(spec, { pieceCacheEntries: 0 });
    const tiny = createTokenizer(spec, { pieceCacheEntries: 2 });
    const texts = sampleCorpus().flatMap((f) => f.records.map((r) => String(r.text ?? r.content)));
    for (const text of [...texts, ...texts]) {
      const want = Array.from(await ours.encodeOrdinary(text));
      expect(Array.from(await none.encodeOrdinary(text))).toEqual(want);
      expect(Array.from(await tiny.encodeOrdinary(text))).toEqual(want);
    }
  });

  it('decode gives the text back, a leading U+FEFF included, and rejects unknown ids', async () => {
    const text = '\ufeffHello 東京 🙂 <|end_of_text|>';
    expect(ours.decode(await ours.encodeOrdinary(text))).toBe(text);
    expect(ours.decode([128_000, 9906])).toBe('<|begin_of_text|>Hello');
    expect(() => ours.decode([128_256])).toThrow(RangeError);
    expect(() => ours.decode([-1])).toThrow(RangeError);
    expect(() => ours.decode([1.5])).toThrow(RangeError);
  });

  it('frees tiktoken once, however often free() is called', () => {
    const tokenizer = createTokenizer(spec);
    tokenizer.free();
    expect(() => tokenizer.free()).not.toThrow();
  });
});

describe('LLaMA-3 ids on long adversarial documents equal native tiktoken (recorded fixtures)', () => {
  it('were recorded on the same ranks', () => expect(NATIVE.ranksSha256).toBe(spec.identity.vocabularySha256));

  it.each([...HEADLINE_TEXTS, ...MIXED_TEXTS].map((t) => [t.name, t] as const))(
    '%s',
    async (name, t) => {
      const want = NATIVE.inputs[name];
      const text = makeAdversarialText(t);
      expect(text.length).toBe(want.chars);
      const ids = await ours.encodeOrdinary(text);
      if (want.error !== undefined) {
        // Native tiktoken panics (regex StackOverflow) on millions of white-space characters; the
        // 1000× shorter text matches tiktoken above, and these ids must decode to the text.
        expect(ours.decode(ids)).toBe(text);
        return;
      }
      expect(sha256(text)).toBe(want.textSha256);
      expect(ids.length).toBe(want.tokens);
      expect(Array.from(ids.subarray(0, 8))).toEqual(want.head);
      expect(Array.from(ids.subarray(-8))).toEqual(want.tail);
      expect(sha256(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength))).toBe(want.idsSha256);
    },
    300_000,
  );
});
