/**
 * Merge tables over a tiktoken ranks file (`base64(bytes) rank` per line; ids are ranks), for the
 * long-piece BPE of ./longPieces.ts (tiktoken itself encodes every other piece):
 *
 * - `byteRank`: the rank of each single byte (byte-level BPE vocabularies hold all 256);
 * - `pairs`: (rank a, rank b) → rank of bytes(a) + bytes(b), for every token that splits into two
 *   tokens (every part of tiktoken's merge loop is a token, so this is all the loop looks up);
 * - `wholeRank`: text → rank for the well-formed UTF-8 tokens of at least `minPieceBytes` bytes,
 *   because tiktoken looks a whole piece up before merging it (a piece that is a token is that
 *   token, whatever the merges would give; LLaMA-3 has one such token of 128 bytes: 128 spaces).
 *
 * Building them takes about 0.3 s and 30 MB for LLaMA-3's 128,000 ranks, once per thread, and
 * only when a document has a long piece.
 */
import { InvariantError } from '../core/errors.ts';
import { PairTable } from './mergeHeap.ts';

/** Tables of one ranks file; see the module comment. */
export interface RankTables {
  /** Number of ranks (ids `0 … count-1`). */
  count: number;
  /** Rank of each byte value. */
  byteRank: Int32Array;
  /** Pair of ranks → rank of their concatenation (rank = merged id). */
  pairs: PairTable;
  /** Well-formed UTF-8 token text of at least `minPieceBytes` bytes → rank. */
  wholeRank: Map<string, number>;
}

/**
 * The bytes of every rank of a tiktoken ranks file, index = rank, each as a latin1 string (one
 * character per byte: cheaper to hold and to key a Map with than 128,000 Buffers).
 * @throws InvariantError when ranks are not exactly `0 … count-1` or a token is empty.
 */
export function parseRanks(ranksText: string): string[] {
  const lines = ranksText.split('\n').filter((line) => line.length > 0);
  const count = lines.length;
  const raw: string[] = new Array(count);
  for (const line of lines) {
    const space = line.indexOf(' ');
    const rank = Number(line.slice(space + 1));
    const bytes = Buffer.from(line.slice(0, space), 'base64').toString('latin1');
    if (!Number.isInteger(rank) || rank < 0 || rank >= count || raw[rank] !== undefined || bytes.length === 0) {
      throw new InvariantError(`Expected ranks 0…${count - 1}, each once, with non-empty tokens; got line ${JSON.stringify(line.slice(0, 60))}`);
    }
    raw[rank] = bytes;
  }
  return raw;
}

/**
 * Parses a tiktoken ranks file and builds the tables.
 * @param minPieceBytes - the shortest piece (UTF-8 bytes) the tables will merge; tokens at least
 *   this long go into `wholeRank`.
 * @throws InvariantError as {@link parseRanks}, or when a byte value has no single-byte token (the
 *   merge loop starts from single bytes).
 */
export function buildRankTables(ranksText: string, minPieceBytes: number): RankTables {
  const raw = parseRanks(ranksText);
  const count = raw.length;
  const rankOf = new Map<string, number>();
  const wholeRank = new Map<string, number>();
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const byteRank = new Int32Array(256).fill(-1);
  for (let rank = 0; rank < count; rank++) {
    const bytes = raw[rank];
    rankOf.set(bytes, rank);
    if (bytes.length === 1) byteRank[bytes.charCodeAt(0)] = rank;
    if (bytes.length < minPieceBytes) continue;
    try {
      wholeRank.set(utf8.decode(Buffer.from(bytes, 'latin1')), rank);
    } catch {
      // not well-formed UTF-8: a piece of text never equals it
    }
  }
  const missing = byteRank.indexOf(-1);
  if (missing >= 0) throw new InvariantError(`Expected a single-byte token for every byte value, byte 0x${missing.toString(16)} has none`);

  // Every split of every token into two tokens, as (a, b, rank) triples.
  let triples = new Int32Array(3 << 18);
  let n = 0;
  for (let rank = 0; rank < count; rank++) {
    const bytes = raw[rank];
    for (let k = 1; k < bytes.length; k++) {
      const a = rankOf.get(bytes.slice(0, k));
      if (a === undefined) continue;
      const b = rankOf.get(bytes.slice(k));
      if (b === undefined) continue;
      if (n + 3 > triples.length) {
        const grown = new Int32Array(triples.length * 2);
        grown.set(triples);
        triples = grown;
      }
      triples[n++] = a;
      triples[n++] = b;
      triples[n++] = rank;
    }
  }
  const pairs = new PairTable(n / 3);
  for (let i = 0; i < n; i += 3) pairs.set(triples[i], triples[i + 1], triples[i + 2], triples[i + 2]);
  return { count, byteRank, pairs, wholeRank };
}
