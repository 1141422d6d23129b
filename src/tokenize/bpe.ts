/**
 * A {@link Tokenizer} over a tiktoken ranks file (LLaMA-3): the `tiktoken` npm package (WASM)
 * encodes and decodes, through ./tiktokenEncoder.ts, which puts a bounded piece cache in front of
 * it and sends the rare pieces on which tiktoken is quadratic to ./longPieces.ts, so any document
 * encodes in O(n log n) time and bounded stack. Raw text is always ordinary text
 * (`encode_ordinary`), so a document containing `<|end_of_text|>` literally gets ordinary ids and
 * never throws; BOS/EOS are added as ids.
 *
 * Exactness: test/tokenize/bpe.test.ts compares the ids with tiktoken alone (WASM, on whole
 * documents) on every shared sample, the sample corpus, generated adversarial text and every code
 * point of planes 0–3 and 14, and with native tiktoken (recorded fixtures) on runs of up to
 * 16 M characters. Speed and memory: `pnpm bench --tokenizer` (bench/tokenizer.ts).
 */
import { Tiktoken } from 'tiktoken';
import { InvariantError } from '../core/errors.ts';
import { LLAMA3_PATTERN } from './llama3.ts';
import { createLongPieceEncoder } from './longPieces.ts';
import { createTiktokenEncoder, DEFAULT_PIECE_CACHE_ENTRIES } from './tiktokenEncoder.ts';
import { withBosEos, type Tokenizer, type TiktokenSpec } from './tokenizer.ts';

/** Options of {@link createTokenizer}. */
export interface TiktokenTokenizerOptions {
  /** Bound of the pre-tokenizer piece cache, in entries (0: no cache). Default {@link DEFAULT_PIECE_CACHE_ENTRIES}. */
  pieceCacheEntries?: number;
}

/**
 * Creates a tokenizer from a tiktoken spec (ranks, specials, pattern); loading the ranks into
 * tiktoken takes about 0.2 s. `free()` drops the piece cache and frees tiktoken's WASM memory
 * (a second call does nothing); the tokenizer cannot encode or decode after it.
 * @throws InvariantError when the spec's pattern is not LLaMA-3's (the only pre-tokenizer
 *   ./llama3Split.ts implements).
 */
export function createTokenizer(spec: TiktokenSpec, options: TiktokenTokenizerOptions = {}): Tokenizer {
  if (spec.pattern !== LLAMA3_PATTERN) {
    throw new InvariantError(`Expected the pre-tokenizer pattern of "${spec.identity.name}" to be LLaMA-3's, got ${JSON.stringify(spec.pattern)}`);
  }
  const library = new Tiktoken(spec.ranks, spec.specialTokens, spec.pattern);
  const encoder = createTiktokenEncoder((text) => library.encode_ordinary(text), createLongPieceEncoder(spec.ranks), {
    pieceCacheEntries: options.pieceCacheEntries ?? DEFAULT_PIECE_CACHE_ENTRIES,
  });
  const rankCount = spec.ranks.split('\n').filter((line) => line.length > 0).length;
  const specialIds = new Set(Object.values(spec.specialTokens));
  const textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

  let freed = false;
  const encode = (text: string) => encoder.encode(text);
  return {
    identity: spec.identity,
    encodeOrdinary: async (text) => encode(text),
    encodeDocument: async (text) => withBosEos(encode(text), spec.identity),
    decode(ids) {
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        if (!((Number.isInteger(id) && id >= 0 && id < rankCount) || specialIds.has(id))) {
          throw new RangeError(`Expected token ids of "${spec.identity.name}" to be ranks or special ids, got ${id}`);
        }
      }
      return textDecoder.decode(library.decode(Uint32Array.from(ids)));
    },
    free() {
      encoder.clearCache();
      if (!freed) library.free();
      freed = true;
    },
  };
}
