/**
 * Best-fit decreasing bin packing of pieces into rows of a fixed capacity (tokens).
 *
 * Algorithm: pieces are sorted by length, longest first (ties: lower `ref` first); each goes into
 * the open row whose free space is the smallest that still holds it (ties: the earliest opened
 * row), or opens a new row. Free space is indexed by a segment tree over `0..capacity`, so each
 * placement costs O(log capacity) plus the scan of one free-space bucket.
 * Guarantees: no row over capacity; every piece placed exactly once; output depends only on the
 * input (no clock, no randomness). BFD uses at most 11/9·OPT + 6/9 rows (Dósa 2007).
 */
import { InvariantError } from '../core/errors.ts';

/** A piece to pack; `ref` is the caller's handle for it. */
export interface PackItem {
  ref: number;
  lengthTokens: number;
}

/** One packed row: piece refs in placement order and the tokens they use. */
export interface RowPlan {
  refs: number[];
  usedTokens: number;
}

/** Finds the smallest index `>= from` whose count is non-zero, over `0..size-1`. */
class FreeSpaceIndex {
  private readonly leaves: number;
  private readonly tree: Uint32Array;

  constructor(size: number) {
    let leaves = 1;
    while (leaves < size) leaves *= 2;
    this.leaves = leaves;
    this.tree = new Uint32Array(2 * leaves);
  }

  add(index: number, delta: number): void {
    for (let i = index + this.leaves; i >= 1; i >>= 1) this.tree[i] += delta;
  }

  firstAtOrAfter(from: number): number {
    return this.search(1, 0, this.leaves, from);
  }

  private search(node: number, lo: number, hi: number, from: number): number {
    if (hi <= from || this.tree[node] === 0) return -1;
    if (hi - lo === 1) return lo;
    const mid = (lo + hi) >> 1;
    const left = this.search(2 * node, lo, mid, from);
    return left !== -1 ? left : this.search(2 * node + 1, mid, hi, from);
  }
}

/**
 * Packs `items` into rows of `capacityTokens`.
 * @returns rows in the order they were opened.
 * @throws InvariantError when an item is longer than the capacity or not a positive integer.
 */
export function packBestFitDecreasing(items: readonly PackItem[], capacityTokens: number): RowPlan[] {
  const sorted = items.slice().sort((a, b) => b.lengthTokens - a.lengthTokens || a.ref - b.ref);
  const rows: RowPlan[] = [];
  const index = new FreeSpaceIndex(capacityTokens + 1);
  const rowsByFree = new Map<number, number[]>();
  for (const item of sorted) {
    if (!Number.isInteger(item.lengthTokens) || item.lengthTokens < 1 || item.lengthTokens > capacityTokens) {
      throw new InvariantError(`piece ${item.ref} has ${item.lengthTokens} tokens; pieces must be 1..${capacityTokens}`, { ref: item.ref });
    }
    const free = index.firstAtOrAfter(item.lengthTokens);
    let rowIndex: number;
    if (free === -1) {
      rowIndex = rows.length;
      rows.push({ refs: [], usedTokens: 0 });
    } else {
      const bucket = rowsByFree.get(free)!;
      let at = 0;
      for (let i = 1; i < bucket.length; i++) if (bucket[i] < bucket[at]) at = i;
      rowIndex = bucket[at];
      bucket[at] = bucket[bucket.length - 1];
      bucket.pop();
      index.add(free, -1);
    }
    const row = rows[rowIndex];
    row.refs.push(item.ref);
    row.usedTokens += item.lengthTokens;
    const left = capacityTokens - row.usedTokens;
    if (left > 0) {
      index.add(left, 1);
      const bucket = rowsByFree.get(left);
      if (bucket) bucket.push(rowIndex);
      else rowsByFree.set(left, [rowIndex]);
    }
  }
  return rows;
}
