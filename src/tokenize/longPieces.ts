/**
 * Linear-time tokenization of documents with very long pre-tokenizer pieces.
 *
 * tiktoken's BPE is quadratic in the length of one pre-tokenized piece (../shared/LIBRARIES.md
 * §1.4: 40k CJK characters take about 18 s, 400k repeated characters over 300 s). BPE never
 * merges across pieces, so a document can be encoded piece by piece with the same result:
 *
 * 1. `longestRun` (one pass over char codes, ~200 MB/s) finds the longest run of whitespace or of
 *    non-whitespace characters. Below {@link GUARD_RUN_CHARS} no piece can be long and tiktoken
 *    encodes the whole document as usual.
 * 2. Otherwise the document is split with the pre-tokenizer regex ({@link LLAMA3_SPLIT_JS}, the
 *    JavaScript spelling of Meta's pattern); stretches of ordinary pieces are encoded by tiktoken,
 *    and each piece of {@link LONG_PIECE_CHARS} characters or more by `llama3-tokenizer-js`, an
 *    independent LLaMA-3 BPE that merges with a priority queue (O(n log n): 400k repeated
 *    characters in about 3 s here). A single piece never holds a whole special-token string
 *    (`<|`, letters and `|>` are separate pieces), so that encoder cannot emit special ids.
 *
 * test/tokenize/longPieces.test.ts checks, on every shared sample document with the thresholds
 * forced low, that this path gives exactly tiktoken's ids.
 */
import type { Llama3Tokenizer } from 'llama3-tokenizer-js';

/** A document whose longest same-class run is at least this many chars takes the piecewise path. */
export const GUARD_RUN_CHARS = 2000;
/** Pieces at least this long (chars) are encoded by the O(n log n) encoder. */
export const LONG_PIECE_CHARS = 1000;

/**
 * Meta's LLaMA-3 pre-tokenizer pattern in JavaScript syntax (flags `gu`): the case-insensitive
 * group `(?i:'s|…)` is spelled out (including U+017F, which case-folds to `s`), and `\s`/`\S` are
 * `\p{White_Space}`/`\P{White_Space}`, since JavaScript's `\s` also matches U+FEFF and misses U+0085.
 */
export const LLAMA3_SPLIT_JS = new RegExp(
  [
    "'(?:[sS\\u017F]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])",
    '[^\\r\\n\\p{L}\\p{N}]?\\p{L}+',
    '\\p{N}{1,3}',
    ' ?[^\\p{White_Space}\\p{L}\\p{N}]+[\\r\\n]*',
    '\\p{White_Space}*[\\r\\n]+',
    '\\p{White_Space}+(?!\\P{White_Space})',
    '\\p{White_Space}+',
  ].join('|'),
  'gu',
);

function isSpace(code: number): boolean {
  return (
    code === 32 ||
    (code >= 9 && code <= 13) ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** Length (UTF-16 code units) of the longest run of whitespace or of non-whitespace in `text`. */
export function longestRun(text: string): number {
  let longest = 0;
  let run = 0;
  let previous = false;
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i));
    run = i > 0 && space === previous ? run + 1 : 1;
    previous = space;
    if (run > longest) longest = run;
  }
  return longest;
}

let reference: Promise<Llama3Tokenizer> | undefined;
/** Loads `llama3-tokenizer-js` once per thread (about 1 s), only when a document needs it. */
export function loadLongPieceEncoder(): Promise<Llama3Tokenizer> {
  reference ??= import('llama3-tokenizer-js').then((m) => m.default);
  return reference;
}

/** Thresholds of the piecewise path (tests lower them to exercise it on ordinary text). */
export interface PiecewiseThresholds {
  guardRunChars: number;
  longPieceChars: number;
}

/**
 * Encodes `text` as ordinary text (no special ids, no BOS/EOS) in time O(n log n) in the length
 * of its longest piece.
 * @param encodeStretch - tiktoken's `encode_ordinary` for stretches of ordinary pieces.
 */
export async function encodePiecewise(text: string, encodeStretch: (text: string) => Uint32Array, thresholds: PiecewiseThresholds): Promise<Uint32Array> {
  const parts: ArrayLike<number>[] = [];
  let total = 0;
  const push = (ids: ArrayLike<number>) => {
    parts.push(ids);
    total += ids.length;
  };
  // Pieces `[start, end)` since the last long piece. A stretch is encoded by tiktoken in one call
  // only up to its last piece that ends in non-whitespace: at the end of a string the pattern's
  // `\s+(?!\S)` would join trailing whitespace pieces ("\t", "\t" before "\\centering" become
  // "\t\t"), so trailing whitespace-ending pieces are encoded one by one.
  let stretch: [number, number][] = [];
  const flush = () => {
    let k = stretch.length;
    while (k > 0 && isSpace(text.charCodeAt(stretch[k - 1][1] - 1))) k--;
    if (k > 0) push(encodeStretch(text.slice(stretch[0][0], stretch[k - 1][1])));
    for (let i = k; i < stretch.length; i++) push(encodeStretch(text.slice(stretch[i][0], stretch[i][1])));
    stretch = [];
  };
  for (const match of text.matchAll(LLAMA3_SPLIT_JS)) {
    const piece = match[0];
    const start = match.index!;
    if (piece.length < thresholds.longPieceChars) {
      stretch.push([start, start + piece.length]);
      continue;
    }
    flush();
    const encoder = await loadLongPieceEncoder();
    push(encoder.encode(piece, { bos: false, eos: false }));
  }
  // At the end of the document the stretch ends where the text ends: one call is exact.
  if (stretch.length) push(encodeStretch(text.slice(stretch[0][0])));
  const out = new Uint32Array(total);
  let at = 0;
  for (const ids of parts) {
    out.set(ids, at);
    at += ids.length;
  }
  return out;
}
