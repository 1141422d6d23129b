/**
 * A {@link Tokenizer} over a tiktoken ranks file (LLaMA-3), computed in JavaScript by
 * ./byteLevelEncoder.ts: the ids are tiktoken's `encode_ordinary` ids, in O(n log n) time and
 * bounded stack on any document (tiktoken 1.0.22's WASM encoder is quadratic in the length of a
 * pre-tokenizer piece and is kept only as a test reference). Raw text is always ordinary text, so a
 * document containing `<|end_of_text|>` literally gets ordinary ids and never throws; BOS/EOS are
 * added as ids.
 *
 * Exactness: test/tokenize/bpe.test.ts compares the ids with tiktoken (WASM) and llama3-tokenizer-js
 * on every shared sample and on generated adversarial text, and with native tiktoken (recorded
 * fixtures) on runs of up to 16 M characters. Speed: `pnpm bench` (bench/tokenizer.ts).
 */
import { InvariantError } from '../core/errors.ts';
import { createByteLevelEncoder, DEFAULT_PIECE_CACHE_ENTRIES } from './byteLevelEncoder.ts';
import { LLAMA3_PATTERN } from './llama3.ts';
import { buildRankTables } from './rankTables.ts';
import { withBosEos, type Tokenizer, type TiktokenSpec } from './tokenizer.ts';

/** Options of {@link createTokenizer}. */
export interface TiktokenTokenizerOptions {
  /** Bound of the pre-tokenizer piece cache, in entries (0: no cache). Default {@link DEFAULT_PIECE_CACHE_ENTRIES}. */
  pieceCacheEntries?: number;
}

/**
 * Creates a tokenizer from a tiktoken spec (ranks, specials, pattern). Building the rank tables
 * takes about 0.4 s. `free()` drops the piece cache.
 * @throws InvariantError when the spec's pattern is not LLaMA-3's (the only pre-tokenizer
 *   implemented, ./llama3Split.ts) or its ranks are malformed (./rankTables.ts).
 */
export function createTokenizer(spec: TiktokenSpec, options: TiktokenTokenizerOptions = {}): Tokenizer {
  if (spec.pattern !== LLAMA3_PATTERN) {
    throw new InvariantError(`Expected the pre-tokenizer pattern of "${spec.identity.name}" to be LLaMA-3's, got ${JSON.stringify(spec.pattern)}`);
  }
  const tables = buildRankTables(spec.ranks);
  const encoder = createByteLevelEncoder(tables, { pieceCacheEntries: options.pieceCacheEntries ?? DEFAULT_PIECE_CACHE_ENTRIES });
  const special = new Map<number, Uint8Array>();
  const utf8 = new TextEncoder();
  for (const [text, id] of Object.entries(spec.specialTokens)) special.set(id, utf8.encode(text));
  const textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const { count, tokenBytes, offsets } = tables;

  const encode = (text: string) => encoder.encode(text);
  const encodeOrdinary = async (text: string): Promise<Uint32Array> => encode(text);
  return {
    identity: spec.identity,
    encodeOrdinary,
    encodeDocument: async (text) => withBosEos(encode(text), spec.identity),
    decode(ids) {
      const parts: Uint8Array[] = [];
      let total = 0;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        const bytes = Number.isInteger(id) && id >= 0 && id < count ? tokenBytes.subarray(offsets[id], offsets[id + 1]) : special.get(id);
        if (bytes === undefined) throw new RangeError(`Expected token ids of "${spec.identity.name}" to be ranks or special ids, got ${id}`);
        parts.push(bytes);
        total += bytes.length;
      }
      const all = new Uint8Array(total);
      for (let i = 0, at = 0; i < parts.length; at += parts[i].length, i++) all.set(parts[i], at);
      return textDecoder.decode(all);
    },
    free: () => encoder.clearCache(),
  };
}
