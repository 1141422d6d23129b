/**
 * Byte-pair merging in O(n log n) time and O(1) stack, shared by the LLaMA-3 encoder (./bpe.ts,
 * tiktoken's rule) and the long words of the Phi-3 encoder (./hfJson.ts, Hugging Face's rule).
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
 * by (rank, position), with decrease-key): each merge costs O(log n), where tiktoken 1.0.22's
 * scan costs O(n) (../shared/LIBRARIES.md §1.4: quadratic, 300 s for 400,000 `a`). Scratch
 * memory for n symbols: 32·n bytes (the symbols, links, keys and heap). test/tokenize/mergeHeap.test.ts
 * checks that the two ways give the same symbols.
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

/** {@link mergeSymbols} with an indexed heap, O(n log n); exported for tests. */
export function mergeByHeap(sym: Int32Array, n: number, table: PairTable): Int32Array {
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const slotOf = new Int32Array(n); // PairTable slot of the pair that starts at this symbol, -1 if none
  // Heap order: key = rank · 2^28 + position (exact in a double: rank < 2^25, position < 2^28).
  const key = new Float64Array(n);
  const heap = new Int32Array(n); // symbol positions, a binary min-heap by key
  const where = new Int32Array(n).fill(-1); // position -> index in heap, -1 if absent
  let size = 0;

  const siftUp = (at: number, p: number) => {
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
  };
  const siftDown = (at: number, p: number) => {
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
  };
  const remove = (p: number) => {
    const at = where[p];
    where[p] = -1;
    const last = heap[--size];
    if (at === size) return;
    siftDown(at, last);
    if (where[last] === at) siftUp(at, last);
  };
  // Recomputes the pair that starts at p (its right neighbour is next[p]) and fixes the heap.
  const update = (p: number) => {
    const q = next[p];
    const s = q < n ? table.find(sym[p], sym[q]) : -1;
    slotOf[p] = s;
    if (s < 0) {
      if (where[p] >= 0) remove(p);
      return;
    }
    const old = key[p];
    const k = table.rank[s] * POSITIONS + p;
    key[p] = k;
    if (where[p] < 0) siftUp(size++, p);
    else if (k < old) siftUp(where[p], p);
    else siftDown(where[p], p);
  };

  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
    const s = i + 1 < n ? table.find(sym[i], sym[i + 1]) : -1;
    slotOf[i] = s;
    if (s >= 0) {
      key[i] = table.rank[s] * POSITIONS + i;
      heap[size] = i;
      where[i] = size++;
    }
  }
  for (let at = (size >> 1) - 1; at >= 0; at--) siftDown(at, heap[at]);

  while (size > 0) {
    const p = heap[0];
    const q = next[p];
    sym[p] = table.merged[slotOf[p]];
    if (where[q] >= 0) remove(q);
    const after = next[q];
    next[p] = after;
    if (after < n) prev[after] = p;
    update(p); // p is still in the heap: its key changes in place, or it leaves
    if (prev[p] >= 0) update(prev[p]);
  }

  let count = 0;
  for (let p = 0; p < n; p = next[p]) count++;
  const out = new Int32Array(count);
  for (let p = 0, k = 0; p < n; p = next[p]) out[k++] = sym[p];
  return out;
}
