/**
 * tiktoken's `encode_ordinary` for the LLaMA-3 ranks, in JavaScript, in O(n log n) time and O(1)
 * stack on any text:
 *
 * 1. lone surrogates become U+FFFD (what tiktoken's UTF-8 conversion does);
 * 2. ./llama3Split.ts cuts the text into pre-tokenizer pieces (BPE never merges across pieces);
 * 3. a piece that is a token is that token (`pieceRank`, as tiktoken checks first);
 * 4. other pieces are merged from their UTF-8 bytes by tiktoken's rule (./mergeHeap.ts), through
 *    a bounded cache of piece → ids ({@link BoundedCache}) for pieces of at most
 *    {@link MAX_CACHED_PIECE_CHARS} UTF-16 units: natural text repeats its pieces.
 *
 * Memory: the rank tables (./rankTables.ts, about 40 MB), the cache (at most `cacheEntries`
 * entries of a key ≤ {@link MAX_CACHED_PIECE_CHARS} units and ≤ 3 × that many ids: under 600
 * bytes each, so under 40 MB at the default 65,536), and while a piece of b UTF-8 bytes merges,
 * 28·b bytes of scratch (its bytes and ./mergeHeap.ts's arrays).
 */
import { BoundedCache } from './boundedCache.ts';
import { IdBuffer } from './idBuffer.ts';
import { llama3PieceEnd } from './llama3Split.ts';
import { mergeSymbols } from './mergeHeap.ts';
import type { RankTables } from './rankTables.ts';

/** Pieces longer than this (UTF-16 units) are merged every time, never cached. */
export const MAX_CACHED_PIECE_CHARS = 32;
/** Default bound of the piece cache, in entries. */
export const DEFAULT_PIECE_CACHE_ENTRIES = 1 << 16;

/** Options of {@link createByteLevelEncoder}. */
export interface ByteLevelEncoderOptions {
  /** Piece cache bound in entries; 0 disables the cache. Default {@link DEFAULT_PIECE_CACHE_ENTRIES}. */
  pieceCacheEntries?: number;
}

/** tiktoken's `encode_ordinary` with a piece cache. */
export interface ByteLevelEncoder {
  /** Encodes text as ordinary text (no special ids, no BOS/EOS) to ranks. */
  encode(text: string): Uint32Array;
  /** Drops the piece cache. */
  clearCache(): void;
}

/** Creates tiktoken's `encode_ordinary` over `tables` with the LLaMA-3 pre-tokenizer; see the module comment. */
export function createByteLevelEncoder(tables: RankTables, options: ByteLevelEncoderOptions = {}): ByteLevelEncoder {
  const { byteRank, pieceRank, pairs } = tables;
  const cache = new BoundedCache<Int32Array>(options.pieceCacheEntries ?? DEFAULT_PIECE_CACHE_ENTRIES);
  const encoder = new TextEncoder();
  let scratch = new Uint8Array(1024);

  const mergePiece = (piece: string): Int32Array => {
    if (scratch.length < piece.length * 3) scratch = new Uint8Array(piece.length * 3);
    const { written } = encoder.encodeInto(piece, scratch);
    const symbols = new Int32Array(written);
    for (let i = 0; i < written; i++) symbols[i] = byteRank[scratch[i]];
    return mergeSymbols(symbols, written, pairs);
  };

  const encode = (input: string): Uint32Array => {
    const text = input.isWellFormed() ? input : input.toWellFormed();
    const out = new IdBuffer(Math.ceil(text.length / 3));
    const n = text.length;
    for (let i = 0; i < n;) {
      const end = llama3PieceEnd(text, i);
      const piece = text.slice(i, end);
      i = end;
      const rank = pieceRank.get(piece);
      if (rank !== undefined) out.push(rank);
      else out.pushAll(piece.length <= MAX_CACHED_PIECE_CHARS ? cache.get(piece, mergePiece) : mergePiece(piece));
    }
    return out.take();
  };
  return { encode, clearCache: () => cache.clear() };
}
