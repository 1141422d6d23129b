/**
 * The BPE model of a Hugging Face `tokenizer.json`, for one pre-tokenized word, in O(n log n) time
 * and bounded stack (./mergeHeap.ts), with the semantics of @huggingface/tokenizers 0.2.0's
 * `BPE.encode` (and tokenizers' Rust `BPE::merge_word`):
 *
 * - symbols start as the word's code points, each its vocabulary id; a code point without one
 *   never merges;
 * - merges apply lowest rank first (line in `merges`; a pair listed twice takes its last line,
 *   as the library's Map does), leftmost on ties (the library's score is rank + position/length);
 * - at the end a symbol without an id becomes its UTF-8 bytes as `<0xXX>` tokens (byte fallback);
 * - with `ignore_merges`, a word that is a token is that token.
 *
 * Own code, used by ./hfJson.ts only for words of `LONG_WORD_CHARS` (4,096) characters or more, where
 * the library's BPE (one object per symbol, about 500 bytes per character) stalls or runs out of
 * memory: 10.9 s and 544 MiB for one word of 1 M `a`, this module 0.95 s and 32 MiB (the
 * measurements are in ./hfJson.ts).
 *
 * Only the configuration Phi-3 uses is implemented: byte fallback with all 256 byte tokens, no
 * dropout, no subword prefix or suffix, and merges whose parts and results are all in the
 * vocabulary. {@link createHfBpe} returns undefined for any other model, and ./hfJson.ts then uses
 * the library's BPE for every word.
 */
import { mergeSymbols, PairTable } from './mergeHeap.ts';

/** The `model` object of a tokenizer.json, as far as this module reads it. */
export interface HfBpeModelJson {
  type?: string;
  vocab?: Record<string, number>;
  merges?: (string | [string, string])[];
  byte_fallback?: boolean;
  ignore_merges?: boolean;
  dropout?: number | null;
  continuing_subword_prefix?: string | null;
  end_of_word_suffix?: string | null;
}

/** Encodes one pre-tokenized word to ids. */
export type WordEncoder = (word: string) => Uint32Array;

/** Builds the word encoder of a tokenizer.json BPE model, or undefined when its configuration is not the one implemented (see the module comment). */
export function createHfBpe(model: HfBpeModelJson): WordEncoder | undefined {
  const { vocab, merges } = model;
  if (
    model.type !== 'BPE' ||
    !vocab ||
    !merges ||
    model.byte_fallback !== true ||
    model.dropout ||
    model.continuing_subword_prefix ||
    model.end_of_word_suffix
  ) {
    return undefined;
  }
  const ids = new Map(Object.entries(vocab));
  const byteIds = new Int32Array(256);
  for (let b = 0; b < 256; b++) {
    const id = ids.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    if (id === undefined) return undefined;
    byteIds[b] = id;
  }
  const table = new PairTable(merges.length);
  for (let rank = 0; rank < merges.length; rank++) {
    const merge = merges[rank];
    const [a, b] = typeof merge === 'string' ? splitMerge(merge) : merge;
    const left = ids.get(a);
    const right = ids.get(b);
    const merged = ids.get(a + b);
    if (left === undefined || right === undefined || merged === undefined) return undefined;
    table.set(left, right, rank, merged);
  }
  const ignoreMerges = model.ignore_merges === true;
  const utf8 = new TextEncoder();

  return (word: string): Uint32Array => {
    if (ignoreMerges) {
      const whole = ids.get(word);
      if (whole !== undefined) return Uint32Array.of(whole);
    }
    // Symbols: vocabulary ids, or -1 - (UTF-16 index) for a code point without one (never merges).
    const symbols = new Int32Array(word.length);
    let n = 0;
    for (let i = 0; i < word.length;) {
      const cp = word.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      symbols[n++] = ids.get(width === 1 ? word[i] : word.slice(i, i + 2)) ?? -1 - i;
      i += width;
    }
    const merged = mergeSymbols(symbols, n, table);
    let count = 0;
    for (const s of merged) count += s >= 0 ? 1 : utf8Length(word.codePointAt(-1 - s)!);
    const out = new Uint32Array(count);
    let at = 0;
    for (const s of merged) {
      if (s >= 0) out[at++] = s;
      else for (const byte of utf8.encode(String.fromCodePoint(word.codePointAt(-1 - s)!))) out[at++] = byteIds[byte];
    }
    return out;
  };
}

/** "a b" → ["a", "b"] (the first space separates; tokenizers' string form of a merge). */
function splitMerge(merge: string): [string, string] {
  const space = merge.indexOf(' ');
  return [merge.slice(0, space), merge.slice(space + 1)];
}

function utf8Length(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}
