/**
 * Own code, kept only where the library fails: tiktoken's BPE for one long pre-tokenizer piece, in
 * O(n log n) time and O(1) stack.
 *
 * **What tiktoken does wrong.** tiktoken 1.0.22 (WASM, the npm package) merges a piece with
 * `byte_pair_merge` from its `lib.rs`: a linear scan for the lowest-ranked pair per merge, so a
 * piece of n bytes takes O(n²) time. Measured (`pnpm bench --tokenizer`, "long-piece threshold"
 * table, one loaded 2-vCPU run; µs per piece, tiktoken WASM / this module): 64 bytes: `a` 11 / 9,
 * `東` 6 / 3; 128 bytes: `a` 20 / 10, `東` 15 / 6; 256 bytes: `a` 65 / 25, `東` 41 / 11;
 * 1,024 bytes: `a` 691 / 124, `東` 556 / 64; 400,000 `a`: over 300 s (../shared/LIBRARIES.md
 * §1.4) / 0.13–0.15 s (native tiktoken 0.07–0.10 s). There is no maintained JavaScript binding of
 * native tiktoken (which merges long pieces with a heap); `@huggingface/tokenizers` (pure JS) keeps
 * one object per symbol (10.9 s and 544 MiB for one word of 1 M `a`, ./hfJson.ts) and
 * llama3-tokenizer-js overflowed the stack on 2 M `^`. The Rust `tokenizers` binding is linear
 * on such runs (§1.4) but is a native addon that builds a full `Encoding` per call (1.6–1.8 GB
 * peak RSS on the measured corpus, §1.1); it was not tried here.
 *
 * **The threshold.** ./tiktokenEncoder.ts sends a piece here when it has at least
 * {@link LONG_PIECE_BYTES} UTF-8 bytes. Below that, tiktoken's time per byte is about flat (a call
 * costs 5–20 µs whatever the piece: the library is not at fault there, even where this module is
 * faster); from there on it grows with the piece, the quadratic term taking over (per byte, `a`:
 * 0.17 µs at 64 bytes, 0.15 at 128, 0.25 at 256, 0.67 at 1,024). So no document of pieces under
 * the threshold costs tiktoken more than about 0.15 µs a byte (`pnpm bench`'s "pieces of 127
 * bytes" inputs, 3.3–3.8× native tiktoken, are the worst case of this choice; every other
 * adversarial input was under 3× in the runs measured). Natural text rarely has a long piece:
 * none among the 710,285 pieces of ../shared/samples.
 *
 * **What it computes.** Exactly tiktoken's `byte_pair_encode` for one piece: a piece that is a
 * token is that token; otherwise its UTF-8 bytes, as single-byte ranks, are merged lowest rank
 * first, leftmost on ties (./mergeHeap.ts, an indexed binary heap), where the rank of a pair is the
 * rank of the concatenated bytes (./rankTables.ts). The tables are built on the first long piece
 * a thread sees (about 0.3 s and 30 MB), never where documents have none.
 *
 * Memory while a piece of b UTF-8 bytes merges: b bytes of UTF-8, 4·b of symbols and ./mergeHeap.ts's
 * 28·b, all freed after the piece.
 */
import { mergeSymbols } from './mergeHeap.ts';
import { buildRankTables, type RankTables } from './rankTables.ts';

/** Pieces of at least this many UTF-8 bytes are merged here, not by tiktoken (see the module comment). */
export const LONG_PIECE_BYTES = 128;

/**
 * True when `text[start, end)` (well-formed UTF-16) has at least {@link LONG_PIECE_BYTES} UTF-8
 * bytes. O(1) below 43 units (3 bytes a unit at most) and from 128 units on (1 byte a unit at least).
 */
export function isLongPiece(text: string, start: number, end: number): boolean {
  const units = end - start;
  if (units >= LONG_PIECE_BYTES) return true;
  if (units * 3 < LONG_PIECE_BYTES) return false;
  let bytes = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    bytes += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3; // a surrogate pair: 4
  }
  return bytes >= LONG_PIECE_BYTES;
}

/** Encodes one long pre-tokenizer piece (well-formed UTF-16) to tiktoken's ids. */
export type LongPieceEncoder = (piece: string) => Int32Array;

/** Creates the long-piece encoder of a tiktoken ranks file; its tables are built on first use. */
export function createLongPieceEncoder(ranksText: string): LongPieceEncoder {
  let tables: RankTables | undefined;
  const encoder = new TextEncoder();
  return (piece) => {
    tables ??= buildRankTables(ranksText, LONG_PIECE_BYTES);
    const whole = tables.wholeRank.get(piece);
    if (whole !== undefined) return Int32Array.of(whole);
    const bytes = encoder.encode(piece);
    const symbols = new Int32Array(bytes.length);
    const { byteRank } = tables;
    for (let i = 0; i < bytes.length; i++) symbols[i] = byteRank[bytes[i]];
    return mergeSymbols(symbols, bytes.length, tables.pairs);
  };
}
