/**
 * A {@link Tokenizer} over a Hugging Face `tokenizer.json` whose model is BPE, run by
 * `@huggingface/tokenizers` 0.2.0 (pure JS; the tokenizer of transformers.js). The library's own
 * components do the work: normalizer → pre-tokenizer → BPE model (with byte fallback) → ids, and
 * the decoder for `decode`. What this module adds:
 *
 * - **Raw text is ordinary text.** The library's `encode` first splits the text at every added
 *   token (`<s>`, `<|endoftext|>`, …) and maps it to its special id; a training corpus must not
 *   be able to inject control tokens, so this module never calls it and never splits at added
 *   tokens (the same contract as tiktoken's `encode_ordinary` in ./bpe.ts). Added tokens still
 *   decode. The post-processor is ignored: BOS/EOS are added as ids from the identity.
 * - **Empty text encodes to no ids**, as SentencePiece and the Rust `Prepend` normalizer do
 *   (the JS `Prepend` would give one `▁`).
 * - **Long words merged by own code** (./hfBpe.ts, O(n log n) time over typed arrays) from
 *   {@link LONG_WORD_CHARS} UTF-16 units on, where the model is one it implements (Phi-3's is);
 *   shorter words, and every word of other models, go to the library's BPE. The library's BPE is
 *   a heap too, but over one object per symbol (and a copied neighbour per merge): its time per
 *   character stays flat up to a few thousand characters and then grows, and its memory is about
 *   500 bytes per character, so a long word stalls or crashes a worker. Measured (one word of
 *   `▁` + `a`s, Node 20, CPU seconds, peak RSS growth; library / ./hfBpe.ts): 65,536 characters
 *   0.44 s, 27 MiB / 0.06 s, 7 MiB; 262,144: 4.1 s, 114 MiB / 0.08 s, 6 MiB; 1,048,576: 10.9 s,
 *   544 MiB / 0.95 s, 32 MiB; 4 M: 45 s; 16 M would need about 8 GiB. Time per character in µs,
 *   library / ./hfBpe.ts, by word length 16 / 1,024 / 4,096 / 16,384 / 65,536 / 262,144: `a`
 *   1.9 / 3.1 / 3.2 / 4.3 / 6.8 / 17.2 against 0.1–0.5; English words 5.1 / 5.6 / 5.5 / 6.5 /
 *   10.6 / 11.0 against 0.1–0.7.
 * - **A word split without a regex** for the pre-tokenizer `Split(/M+[^M]*|[^M]+/, Isolated)` of
 *   one mark character M (Phi-3's, with M = `▁`): a cut before every M that follows another
 *   character. V8 runs the library's regex with one backtrack entry per character and throws
 *   "Maximum call stack size exceeded" on a word of 16 M characters.
 * - **A word cache across documents** (pre-tokenizer word → ids, ./boundedCache.ts) for words
 *   of at most {@link MAX_CACHED_WORD_CHARS} UTF-16 units: frequent words stay, memory stays
 *   bounded (an entry holds a key of ≤ 128 bytes and ≤ 192 ids: under 1.1 KB, so under 290 MB
 *   at the default bound; typical words take about 200 bytes), and ids never depend on what is
 *   cached.
 *
 * Speed and long inputs: see the measured numbers in ./phi3.ts (its only user so far).
 */
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { InvariantError } from '../core/errors.ts';
import { BoundedCache } from './boundedCache.ts';
import { createHfBpe, type HfBpeModelJson } from './hfBpe.ts';
import { IdBuffer } from './idBuffer.ts';
import { withBosEos, type HfJsonSpec, type Tokenizer } from './tokenizer.ts';

/**
 * The part of `@huggingface/tokenizers`' `Tokenizer` this module uses. The package's own .d.ts
 * files import each other without file extensions, so under `moduleResolution: NodeNext` its
 * classes resolve to `any`; this states what we rely on (0.2.0 `src/core/Tokenizer.ts`).
 */
interface HfTokenizerParts {
  /** Normalizer of the tokenizer.json, or null. */
  normalizer: ((text: string) => string) | null;
  /** Pre-tokenizer of the tokenizer.json (text → words), or null. */
  pre_tokenizer: ((text: string) => string[]) | null;
  /** The model: words → tokens (BPE with byte fallback and unknown-token fusing). */
  model: {
    (words: string[]): string[];
    /** Token → id, including added tokens. */
    tokens_to_ids: Map<string, number>;
    /** Id → token, including added tokens. */
    vocab: (string | undefined)[];
  };
  /** Ids → text through the tokenizer.json's decoder. */
  decode(ids: number[], options: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
}

/** Words longer than this (UTF-16 units) are merged every time, never cached. */
export const MAX_CACHED_WORD_CHARS = 64;

/**
 * Words of at least this many UTF-16 units are merged by ./hfBpe.ts, not by the library: from
 * there on the library's time per character grows with the word (see the module comment).
 */
export const LONG_WORD_CHARS = 4096;

/** Default bound of the word cache (entries, both generations together). */
export const DEFAULT_WORD_CACHE_ENTRIES = 1 << 18;

/** Options of {@link createHfJsonTokenizer}. */
export interface HfJsonOptions {
  /** Word cache bound in entries (0 disables the cache). Default {@link DEFAULT_WORD_CACHE_ENTRIES}. */
  wordCacheEntries?: number;
  /**
   * Words of at least this many UTF-16 units go to ./hfBpe.ts where it implements the model, shorter
   * ones to the library's BPE. Default {@link LONG_WORD_CHARS}; tests compare 1 (own code for every
   * word) with Infinity (the library for every word).
   */
  longWordChars?: number;
}

/**
 * Creates a tokenizer from an `hf-json` spec. Construction parses the JSON and builds the merge
 * table (about 0.3 s for a 32k vocabulary); `free()` only drops the word cache. Its `decode`
 * throws a RangeError for an id without a token (e.g. unused padding ids of the embedding).
 * @throws InvariantError when the tokenizer.json has no BPE model, or (from `encodeOrdinary`)
 *   when its model emits a token that has no id (no byte fallback and no unknown token).
 */
export function createHfJsonTokenizer(spec: HfJsonSpec, options: HfJsonOptions = {}): Tokenizer {
  const json = JSON.parse(spec.tokenizerJson) as { model?: HfBpeModelJson; pre_tokenizer?: unknown };
  if (json.model?.type !== 'BPE') {
    throw new InvariantError(`Expected the tokenizer.json of "${spec.identity.name}" to have a BPE model, got ${json.model?.type ?? 'none'}`);
  }
  const hf: HfTokenizerParts = new HfTokenizer(json, { clean_up_tokenization_spaces: false });
  const model = hf.model;
  const normalize = (text: string): string => (hf.normalizer ? hf.normalizer(text) : text);
  const splitWords = markSplitter(json.pre_tokenizer);
  const preTokenize = (text: string): string[] => (splitWords ? splitWords(text) : hf.pre_tokenizer ? hf.pre_tokenizer(text) : [text]);
  const { vocabSize } = spec.identity;
  const cache = new BoundedCache<Uint32Array>(options.wordCacheEntries ?? DEFAULT_WORD_CACHE_ENTRIES);
  const heapBpe = createHfBpe(json.model);
  const longWordChars = options.longWordChars ?? LONG_WORD_CHARS;

  const libraryBpe = (word: string): Uint32Array => {
    const tokens = model([word]);
    const ids = new Uint32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const id = model.tokens_to_ids.get(tokens[i]);
      if (id === undefined) throw new InvariantError(`Tokenizer "${spec.identity.name}" produced token ${JSON.stringify(tokens[i])}, which has no id`);
      ids[i] = id;
    }
    return ids;
  };
  const encodeWord = (word: string): Uint32Array => (heapBpe && word.length >= longWordChars ? heapBpe(word) : libraryBpe(word));
  const encodeOrdinary = async (text: string): Promise<Uint32Array> => {
    if (text.length === 0) return new Uint32Array(0);
    const out = new IdBuffer();
    for (const word of preTokenize(normalize(text))) out.pushAll(word.length <= MAX_CACHED_WORD_CHARS ? cache.get(word, encodeWord) : encodeWord(word));
    return out.take();
  };

  return {
    identity: spec.identity,
    encodeOrdinary,
    encodeDocument: async (text) => withBosEos(await encodeOrdinary(text), spec.identity),
    decode(ids) {
      if (ids.length === 0) return '';
      const list = Array.from(ids);
      for (const id of list) {
        if (!(Number.isInteger(id) && id >= 0 && id < vocabSize && model.vocab[id] !== undefined)) {
          throw new RangeError(`Expected token ids of "${spec.identity.name}" to be integers in [0, ${vocabSize}) that have a token, got ${id}`);
        }
      }
      return hf.decode(list, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    },
    free: () => cache.clear(),
  };
}

/**
 * For a pre-tokenizer `{type: 'Split', pattern: {Regex: 'M+[^M]*|[^M]+'}, behavior: 'Isolated',
 * invert: false}` with one character M, the same split in O(n) time and O(1) stack; otherwise
 * undefined (the library's pre-tokenizer is used).
 */
function markSplitter(preTokenizer: unknown): ((text: string) => string[]) | undefined {
  const p = preTokenizer as { type?: string; pattern?: { Regex?: string }; behavior?: string; invert?: boolean } | null | undefined;
  const shape =
    p?.type === 'Split' && p.behavior === 'Isolated' && p.invert === false ? /^(\p{Any})\+\[\^\1\]\*\|\[\^\1\]\+$/u.exec(p.pattern?.Regex ?? '') : null;
  if (!shape) return undefined;
  const mark = shape[1];
  return (text) => {
    const words: string[] = [];
    let start = 0;
    for (let i = text.indexOf(mark, 1); i > 0; i = text.indexOf(mark, i + mark.length)) {
      if (text.startsWith(mark, i - mark.length)) continue;
      words.push(text.slice(start, i));
      start = i;
    }
    if (start < text.length) words.push(text.slice(start));
    return words;
  };
}
