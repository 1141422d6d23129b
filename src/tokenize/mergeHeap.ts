/**
 * Own code: byte-pair merging in O(n log n) time and O(1) stack, for the pieces and words on which
 * the libraries fail: long LLaMA-3 pieces (./longPieces.ts, tiktoken's rule; tiktoken 1.0.22
 * scans for the best pair once per merge, O(n²): over 300 s for 400,000 `a`,
 * ../shared/LIBRARIES.md §1.4) and long Phi-3 words (./hfJson.ts, Hugging Face's rule; the
 * measurements are in ./hfBpe.ts).
 *
 * Both rules are the same loop: while two adjacent symbols form a known pair, merge the pair of
 * lowest rank, the leftmost among equal ranks. tiktoken (`byte_pair_merge` in its `lib.rs`): the
 * symbols are token ids (every part is a token), the rank of a pair is the rank of the
 * concatenated bytes, and the merged symbol is that rank. Hugging Face BPE (`Word::merge_all` in
 * tokenizers' `word.rs`, and `BPE.bpe` of @huggingface/tokenizers, whose score is rank + position
 * / length): the rank is the merge's line in `merges`, the merged symbol the vocabulary id of the
 * concatenation. A {@link PairTable} holds (left, right) → (rank, merged).
 *
 * {@link mergeSymbols} scans linearly for the best pair on short inputs (as tiktoken does) and
 * keeps the pairs in an indexed binary heap on long ones (a priority queue over positions, keyed
 * by (rank, position), with decrease-key): each merge costs O(log n). Scratch memory for n
 * symbols: 28·n bytes (links, keys and heap), kept between calls up to 65,536 symbols (1.75 MiB)
 * and allocated per call above that. test/tokenize/mergeHeap.test.ts checks that the two ways
 * give the same symbols.
 */

/** Below this many symbols a linear scan beats the heap. */
const HEAP_MIN_SYMBOLS = 48;
const NONE = 0x7fffffff;
/** Positions per rank in a heap key; a merge input has fewer symbols than this. */
const POSITIONS = 2 ** 28;
/** Ranks are below this. */
const MAX_RANK = 2 ** 25;

/** An open-addressing hash table (linear probing) from a pair of symbol ids to (rank, merged id). */
export class PairTable {
  private readonly mask: number;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  /** Rank of the pair at a slot (lower merges first). */
  readonly rank: Int32Array;
  /** Symbol id that the pair at a slot merges into. */
  readonly merged: Int32Array;
  private count = 0;

  /** @param capacityPairs - the most pairs that will be added (the table takes 32–64 bytes per pair). */
  constructor(capacityPairs: number) {
    let size = 1024;
    while (size < capacityPairs * 2) size *= 2;
    this.mask = size - 1;
    this.left = new Int32Array(size).fill(-1);
    this.right = new Int32Array(size);
    this.rank = new Int32Array(size);
    this.merged = new Int32Array(size);
  }

  private slot(left: number, right: number): number {
    return (Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x7f4a7c15, 0x85ebca77)) & this.mask;
  }

  /**
   * Sets (left, right) → (rank, merged); a pair already present is overwritten.
   * @throws RangeError when the table is full or `rank` is not in `[0, 2^25)`.
   */
  set(left: number, right: number, rank: number, merged: number): void {
    if (!(rank >= 0 && rank < MAX_RANK)) throw new RangeError(`Expected a pair rank in [0, ${MAX_RANK}), got ${rank}`);
    let s = this.slot(left, right);
    while (this.left[s] !== -1 && (this.left[s] !== left || this.right[s] !== right)) s = (s + 1) & this.mask;
    if (this.left[s] === -1) {
      if (++this.count > this.mask / 2) throw new RangeError(`PairTable holds at most ${(this.mask + 1) / 2} pairs`);
      this.left[s] = left;
      this.right[s] = right;
    }
    this.rank[s] = rank;
    this.merged[s] = merged;
  }

  /** Slot of (left, right), or -1 when the pair does not merge. */
  find(left: number, right: number): number {
    let s = this.slot(left, right);
    for (;;) {
      const l = this.left[s];
      if (l === -1) return -1;
      if (l === left && this.right[s] === right) return s;
      s = (s + 1) & this.mask;
    }
  }

  /** Number of pairs held. */
  get size(): number {
    return this.count;
  }
}

/**
 * Merges `symbols[0, n)` by `table` (lowest rank first, leftmost on ties) and returns the final
 * symbols, in order, as a new Int32Array. `symbols` is used as scratch.
 * @throws RangeError when `n` ≥ 2^28 (a single pre-tokenizer piece of 256 MiB).
 */
export function mergeSymbols(symbols: Int32Array, n: number, table: PairTable): Int32Array {
  if (n >= POSITIONS) throw new RangeError(`Expected fewer than ${POSITIONS} symbols to merge in one piece, got ${n}`);
  if (n < 2) return symbols.slice(0, n);
  return n < HEAP_MIN_SYMBOLS ? mergeByScan(symbols, n, table) : mergeByHeap(symbols, n, table);
}

/** {@link mergeSymbols} by a linear scan per merge (tiktoken's loop), O(n²); exported for tests. */
export function mergeByScan(sym: Int32Array, n: number, table: PairTable): Int32Array {
  // Symbols are kept compacted in sym[0, n); rank[i] is the rank of (sym[i], sym[i+1]).
  const rank = new Int32Array(n);
  const slots = new Int32Array(n);
  const pairAt = (i: number) => {
    const s = table.find(sym[i], sym[i + 1]);
    slots[i] = s;
    rank[i] = s < 0 ? NONE : table.rank[s];
  };
  for (let i = 0; i + 1 < n; i++) pairAt(i);
  for (;;) {
    let best = -1;
    let bestRank = NONE;
    for (let i = 0; i + 1 < n; i++) {
      if (rank[i] < bestRank) {
        bestRank = rank[i];
        best = i;
      }
    }
    if (best < 0) break;
    sym[best] = table.merged[slots[best]];
    sym.copyWithin(best + 1, best + 2, n);
    rank.copyWithin(best + 1, best + 2, n);
    slots.copyWithin(best + 1, best + 2, n);
    n--;
    if (best + 1 < n) pairAt(best);
    else rank[best] = NONE;
    if (best > 0) pairAt(best - 1);
  }
  return sym.slice(0, n);
}

/** Scratch arrays of {@link mergeByHeap} up to this many symbols are kept for the next call (1.75 MiB). */
const KEEP_SCRATCH_SYMBOLS = 1 << 16;

/** The indexed heap of one merge: arrays over symbol positions, reused across calls of up to {@link KEEP_SCRATCH_SYMBOLS}. */
class HeapScratch {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** PairTable slot of the pair that starts at this symbol, -1 if none. */
  readonly slotOf: Int32Array;
  /** Heap order: rank · 2^28 + position (exact in a double: rank < 2^25, position < 2^28). */
  readonly key: Float64Array;
  /** Symbol positions, a binary min-heap by key. */
  readonly heap: Int32Array;
  /** Position → index in heap, -1 if absent. */
  readonly where: Int32Array;
  size = 0;

  constructor(readonly capacity: number) {
    this.next = new Int32Array(capacity);
    this.prev = new Int32Array(capacity);
    this.slotOf = new Int32Array(capacity);
    this.key = new Float64Array(capacity);
    this.heap = new Int32Array(capacity);
    this.where = new Int32Array(capacity);
  }

  siftUp(at: number, p: number): void {
    const { key, heap, where } = this;
    const k = key[p];
    while (at > 0) {
      const parent = (at - 1) >> 1;
      const q = heap[parent];
      if (key[q] <= k) break;
      heap[at] = q;
      where[q] = at;
      at = parent;
    }
    heap[at] = p;
    where[p] = at;
  }

  siftDown(at: number, p: number): void {
    const { key, heap, where, size } = this;
    const k = key[p];
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && key[heap[child + 1]] < key[heap[child]]) child++;
      const c = heap[child];
      if (key[c] >= k) break;
      heap[at] = c;
      where[c] = at;
      at = child;
    }
    heap[at] = p;
    where[p] = at;
  }

  remove(p: number): void {
    const { heap, where } = this;
    const at = where[p];
    where[p] = -1;
    const last = heap[--this.size];
    if (at === this.size) return;
    this.siftDown(at, last);
    if (where[last] === at) this.siftUp(at, last);
  }

  /** Recomputes the pair that starts at p (its right neighbour is next[p]) and fixes the heap. */
  update(p: number, sym: Int32Array, n: number, table: PairTable): void {
    const q = this.next[p];
    const s = q < n ? table.find(sym[p], sym[q]) : -1;
    this.slotOf[p] = s;
    const { key, where } = this;
    if (s < 0) {
      if (where[p] >= 0) this.remove(p);
      return;
    }
    const old = key[p];
    const k = table.rank[s] * POSITIONS + p;
    key[p] = k;
    if (where[p] < 0) this.siftUp(this.size++, p);
    else if (k < old) this.siftUp(where[p], p);
    else this.siftDown(where[p], p);
  }
}

let kept: HeapScratch | undefined;

/** {@link mergeSymbols} with an indexed heap, O(n log n); exported for tests. */
export function mergeByHeap(sym: Int32Array, n: number, table: PairTable): Int32Array {
  let h: HeapScratch;
  if (n > KEEP_SCRATCH_SYMBOLS) h = new HeapScratch(n);
  else h = kept && kept.capacity >= n ? kept : (kept = new HeapScratch(Math.max(n, 1024)));
  const { next, prev, slotOf, key, heap, where } = h;
  h.size = 0;
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
    where[i] = -1;
    const s = i + 1 < n ? table.find(sym[i], sym[i + 1]) : -1;
    slotOf[i] = s;
    if (s >= 0) {
      key[i] = table.rank[s] * POSITIONS + i;
      heap[h.size] = i;
      where[i] = h.size++;
    }
  }
  for (let at = (h.size >> 1) - 1; at >= 0; at--) h.siftDown(at, heap[at]);

  while (h.size > 0) {
    const p = heap[0];
    const q = next[p];
    sym[p] = table.merged[slotOf[p]];
    if (where[q] >= 0) h.remove(q);
    const after = next[q];
    next[p] = after;
    if (after < n) prev[after] = p;
    h.update(p, sym, n, table); // p is still in the heap: its key changes in place, or it leaves
    if (prev[p] >= 0) h.update(prev[p], sym, n, table);
  }

  let count = 0;
  for (let p = 0; p < n; p = next[p]) count++;
  const out = new Int32Array(count);
  for (let p = 0, k = 0; p < n; p = next[p]) out[k++] = sym[p];
  return out;
}
