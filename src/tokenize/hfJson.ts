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
 * - **A word cache across documents** (pre-tokenizer word → ids) of two generations: lookups
 *   go to the young map, then the old one (a hit there moves the word back to the young map);
 *   when the young map holds half of `wordCacheEntries`, it becomes the old one and the previous
 *   old one is dropped. Frequent words stay, memory stays bounded (about 400 bytes per entry, so
 *   about 100 MB per tokenizer at the default bound), and ids never depend on what is cached.
 *   The library itself caches only 10,000 words; BPE on a cache miss is what costs time.
 *
 * Speed and long inputs: see the measured numbers in ./phi3.ts (its only user so far).
 */
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { InvariantError } from '../core/errors.ts';
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

/** Default bound of the word cache (entries, both generations together). */
export const DEFAULT_WORD_CACHE_ENTRIES = 1 << 18;

/** Options of {@link createHfJsonTokenizer}. */
export interface HfJsonOptions {
  /** Word cache bound in entries (0 disables the cache). Default {@link DEFAULT_WORD_CACHE_ENTRIES}. */
  wordCacheEntries?: number;
}

/** Word → ids, two generations, at most `entries` words in all (`entries` = 0: no cache). */
class WordCache {
  private young = new Map<string, Uint32Array>();
  private old = new Map<string, Uint32Array>();

  constructor(private readonly entries: number) {}

  get(word: string, encode: (word: string) => Uint32Array): Uint32Array {
    let ids = this.young.get(word);
    if (ids !== undefined) return ids;
    ids = this.old.get(word) ?? encode(word);
    if (this.entries > 0) {
      if (this.young.size >= this.entries / 2) [this.old, this.young] = [this.young, new Map()];
      this.young.set(word, ids);
    }
    return ids;
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}

/** A growable Uint32Array for ids. */
class IdBuffer {
  private ids = new Uint32Array(1024);
  private length = 0;

  push(chunk: Uint32Array): void {
    if (this.length + chunk.length > this.ids.length) {
      const grown = new Uint32Array(Math.max(this.ids.length * 2, this.length + chunk.length));
      grown.set(this.ids.subarray(0, this.length));
      this.ids = grown;
    }
    this.ids.set(chunk, this.length);
    this.length += chunk.length;
  }

  take(): Uint32Array {
    return this.ids.slice(0, this.length);
  }
}

/**
 * Creates a tokenizer from an `hf-json` spec. Construction parses the JSON and builds the merge
 * table (about 0.3 s for a 32k vocabulary); `free()` only drops the word cache. Its `decode`
 * throws a RangeError for an id without a token (e.g. unused padding ids of the embedding).
 * @throws InvariantError when the tokenizer.json has no BPE model, or (from `encodeOrdinary`)
 *   when its model emits a token that has no id (no byte fallback and no unknown token).
 */
export function createHfJsonTokenizer(spec: HfJsonSpec, options: HfJsonOptions = {}): Tokenizer {
  const json = JSON.parse(spec.tokenizerJson) as { model?: { type?: string } };
  if (json.model?.type !== 'BPE') {
    throw new InvariantError(`Expected the tokenizer.json of "${spec.identity.name}" to have a BPE model, got ${json.model?.type ?? 'none'}`);
  }
  const hf: HfTokenizerParts = new HfTokenizer(json, { clean_up_tokenization_spaces: false });
  const model = hf.model;
  const normalize = (text: string): string => (hf.normalizer ? hf.normalizer(text) : text);
  const preTokenize = (text: string): string[] => (hf.pre_tokenizer ? hf.pre_tokenizer(text) : [text]);
  const { vocabSize } = spec.identity;
  const cache = new WordCache(options.wordCacheEntries ?? DEFAULT_WORD_CACHE_ENTRIES);

  const encodeWord = (word: string): Uint32Array => {
    const tokens = model([word]);
    const ids = new Uint32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const id = model.tokens_to_ids.get(tokens[i]);
      if (id === undefined) throw new InvariantError(`Tokenizer "${spec.identity.name}" produced token ${JSON.stringify(tokens[i])}, which has no id`);
      ids[i] = id;
    }
    return ids;
  };
  const encodeOrdinary = async (text: string): Promise<Uint32Array> => {
    if (text.length === 0) return new Uint32Array(0);
    const out = new IdBuffer();
    for (const word of preTokenize(normalize(text))) out.push(cache.get(word, encodeWord));
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
