/**
 * A {@link Tokenizer} over tiktoken (WASM BPE). Raw text is always encoded as ordinary text
 * (`encode_ordinary`), so a document containing `<|end_of_text|>` literally gets ordinary ids and
 * never throws; BOS/EOS are added as ids. Documents with very long pre-tokenizer pieces take the
 * linear-time path of ./longPieces.ts.
 */
import { Tiktoken } from 'tiktoken';
import { encodePiecewise, GUARD_RUN_CHARS, LONG_PIECE_CHARS, longestRun, type PiecewiseThresholds } from './longPieces.ts';
import { withBosEos, type Tokenizer, type TiktokenSpec } from './tokenizer.ts';

/**
 * Creates a tokenizer from a tiktoken spec (ranks, specials, pattern). Call `free()` when done.
 * @param thresholds - when to take the piecewise path; defaults are for production.
 */
export function createTokenizer(
  spec: TiktokenSpec,
  thresholds: PiecewiseThresholds = { guardRunChars: GUARD_RUN_CHARS, longPieceChars: LONG_PIECE_CHARS },
): Tokenizer {
  const encoder = new Tiktoken(spec.ranks, spec.specialTokens, spec.pattern);
  const textDecoder = new TextDecoder('utf-8');
  const encodeStretch = (text: string) => encoder.encode_ordinary(text);
  const encodeOrdinary = async (text: string): Promise<Uint32Array> =>
    longestRun(text) < thresholds.guardRunChars ? encodeStretch(text) : encodePiecewise(text, encodeStretch, thresholds);
  return {
    identity: spec.identity,
    encodeOrdinary,
    encodeDocument: async (text) => withBosEos(await encodeOrdinary(text), spec.identity),
    decode: (ids) => textDecoder.decode(encoder.decode(Uint32Array.from(ids))),
    free: () => encoder.free(),
  };
}
