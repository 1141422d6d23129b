/**
 * A {@link Tokenizer} over tiktoken (WASM BPE). Raw text is always encoded with
 * `encode_ordinary`, so a document containing `<|end_of_text|>` literally gets ordinary ids and
 * never throws; BOS/EOS are added as ids.
 */
import { Tiktoken } from 'tiktoken';
import type { Tokenizer, TokenizerSpec } from './tokenizer.ts';

/** Creates a tokenizer from a spec (ranks, specials, pattern). Call `free()` when done. */
export function createTokenizer(spec: TokenizerSpec): Tokenizer {
  const encoder = new Tiktoken(spec.ranks, spec.specialTokens, spec.pattern);
  const { bosId, eosId } = spec.identity;
  const textDecoder = new TextDecoder('utf-8');
  return {
    identity: spec.identity,
    encodeOrdinary: (text) => encoder.encode_ordinary(text),
    encodeDocument(text) {
      const ids = encoder.encode_ordinary(text);
      const out = new Int32Array(ids.length + 2);
      out[0] = bosId;
      out.set(ids, 1);
      out[out.length - 1] = eosId;
      return out;
    },
    decode: (ids) => textDecoder.decode(encoder.decode(Uint32Array.from(ids))),
    free: () => encoder.free(),
  };
}
