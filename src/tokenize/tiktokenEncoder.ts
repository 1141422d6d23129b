/**
 * tiktoken's `encode_ordinary` for the LLaMA-3 ranks on any document: the `tiktoken` npm package
 * encodes, behind a bounded cache of pre-tokenizer pieces; own code only splits the text
 * (./llama3Split.ts) and merges the rare long pieces (./longPieces.ts). Ids are tiktoken's,
 * in O(n log n) time and bounded stack.
 *
 * 1. Lone surrogates become U+FFFD (what tiktoken's UTF-8 conversion does).
 * 2. ./llama3Split.ts cuts the text into the pieces of tiktoken's regex. It exists because the
 *    regex cannot be run in JavaScript on every document: V8 overflows its stack on a run of
 *    16 M characters of one class, and the split must be known to find the long pieces and to key
 *    the cache. BPE never merges across pieces, so a piece's ids do not depend on its neighbours.
 * 3. A piece of {@link MAX_CACHED_PIECE_CHARS} UTF-16 units or fewer: its ids from the cache
 *    ({@link BoundedCache}), or from tiktoken (`encode_ordinary` of the piece alone), then cached.
 *    Natural text repeats its pieces: 41,280 distinct among the 710,285 pieces of ../shared/samples.
 * 4. A piece of {@link LONG_PIECE_BYTES} UTF-8 bytes or more: ./longPieces.ts (tiktoken's BPE is
 *    quadratic in the length of a piece; the measurements are there).
 * 5. Other pieces (and every short one when the cache is off) are gathered into stretches of
 *    consecutive pieces, each encoded by tiktoken in one call. That is exact where the stretch
 *    ends in a character that is not White_Space, or at the end of the text: tiktoken's regex
 *    matches a piece from its start on, reading at most one character past its end, and only
 *    through `\s+(?!\S)`, whose match ends in white space; so on a stretch cut after a
 *    non-white-space character it finds the same pieces as on the whole text. A stretch that ends
 *    in white space (`"\t"`, `"\t"` before `"\\x"` would become one piece `"\t\t"`) is encoded
 *    up to its last piece that does not, and its trailing pieces one by one (a piece alone is
 *    always that one piece). Stretches hold at most about {@link MAX_STRETCH_CHARS} units, so
 *    tiktoken's WASM memory stays bounded whatever the document.
 *
 * Per piece or in stretches, measured side by side (one thread, ../shared/samples, a fresh cache
 * each pass, fastest of 4; M tokens/s): with the cache, one call per missed piece 4.72, stretches
 * of consecutive missed pieces 4.06 (their ids must be cut back into pieces to be cached, which
 * costs what the fewer calls save), so misses go one by one; without the cache, stretches 1.48,
 * one call per piece 0.81, tiktoken alone on whole documents 1.52, so the cacheless mode uses
 * stretches. `pnpm bench --tokenizer` prints the current figures against tiktoken alone and native.
 *
 * Memory: tiktoken's WASM instance (about 50 MiB of RSS), the cache (at most `pieceCacheEntries`
 * entries of a key of ≤ 32 units and ≤ 96 ids, so under 600 bytes each and 40 MB at the default
 * 65,536; an entry of one id, the usual case, holds it as a number: the bench measured 10–14 MiB
 * on its corpora), and ./longPieces.ts's tables once a long piece has been seen.
 */
import { BoundedCache } from './boundedCache.ts';
import { IdBuffer } from './idBuffer.ts';
import { isLlama3Space, llama3PieceEnd } from './llama3Split.ts';
import { isLongPiece, LONG_PIECE_BYTES, type LongPieceEncoder } from './longPieces.ts';

/** Pieces longer than this (UTF-16 units) are never cached. */
export const MAX_CACHED_PIECE_CHARS = 32;
/** Default bound of the piece cache, in entries. */
export const DEFAULT_PIECE_CACHE_ENTRIES = 1 << 16;
/** A stretch sent to tiktoken in one call ends after the piece that takes it to this many UTF-16 units. */
export const MAX_STRETCH_CHARS = 1 << 16;

/** Options of {@link createTiktokenEncoder}. */
export interface TiktokenEncoderOptions {
  /** Piece cache bound in entries; 0 disables the cache. Default {@link DEFAULT_PIECE_CACHE_ENTRIES}. */
  pieceCacheEntries?: number;
  /** Stretch bound in UTF-16 units (tests lower it to cut stretches everywhere). Default {@link MAX_STRETCH_CHARS}. */
  maxStretchChars?: number;
}

/** tiktoken's `encode_ordinary` with a piece cache. */
export interface TiktokenEncoder {
  /** Encodes text as ordinary text (no special ids, no BOS/EOS) to ranks. */
  encode(text: string): Uint32Array;
  /** Drops the piece cache. */
  clearCache(): void;
}

/**
 * Creates the encoder; see the module comment.
 * @param library - tiktoken's `encode_ordinary` (the `tiktoken` package's `Tiktoken` over the
 *   LLaMA-3 ranks and pattern), called on well-formed text of whole pieces shorter than
 *   {@link LONG_PIECE_BYTES} UTF-8 bytes each.
 * @param longPiece - the encoder of pieces of {@link LONG_PIECE_BYTES} UTF-8 bytes or more.
 */
export function createTiktokenEncoder(
  library: (text: string) => Uint32Array,
  longPiece: LongPieceEncoder,
  options: TiktokenEncoderOptions = {},
): TiktokenEncoder {
  const cache = new BoundedCache<number | Uint32Array>(options.pieceCacheEntries ?? DEFAULT_PIECE_CACHE_ENTRIES);
  const caching = cache.entries > 0;
  const maxStretchChars = options.maxStretchChars ?? MAX_STRETCH_CHARS;
  const encodePiece = (piece: string): number | Uint32Array => {
    const ids = library(piece);
    return ids.length === 1 ? ids[0] : ids;
  };

  const encode = (input: string): Uint32Array => {
    const text = input.isWellFormed() ? input : input.toWellFormed();
    const n = text.length;
    const out = new IdBuffer(Math.ceil(n / 3));
    // The stretch [start, end) of pending pieces; `solid` is the end of its last piece that does
    // not end in white space (start when none does). Empty when start === end.
    let start = 0;
    let end = 0;
    let solid = 0;
    const flush = () => {
      if (start === end) return;
      if (solid === end || end === n) out.pushAll(library(text.slice(start, end)));
      else {
        if (solid > start) out.pushAll(library(text.slice(start, solid)));
        for (let i = solid; i < end;) {
          const e = llama3PieceEnd(text, i);
          out.pushAll(library(text.slice(i, e)));
          i = e;
        }
      }
      start = end;
    };
    for (let i = 0; i < n;) {
      const e = llama3PieceEnd(text, i);
      const long = isLongPiece(text, i, e);
      if (long || (caching && e - i <= MAX_CACHED_PIECE_CHARS)) {
        flush();
        if (long) out.pushAll(longPiece(text.slice(i, e)));
        else {
          const ids = cache.get(text.slice(i, e), encodePiece);
          if (typeof ids === 'number') out.push(ids);
          else out.pushAll(ids);
        }
        start = end = solid = e;
      } else {
        if (start === end) start = solid = i;
        end = e;
        if (!isLlama3Space(text.charCodeAt(e - 1))) solid = e;
        if (end - start >= maxStretchChars) flush();
      }
      i = e;
    }
    flush();
    return out.take();
  };
  return { encode, clearCache: () => cache.clear() };
}
