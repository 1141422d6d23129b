/**
 * Best-fit decreasing bin packing of pieces into rows of a fixed capacity (tokens).
 *
 * Algorithm: pieces are sorted by length, longest first (ties: lower `ref` first); each goes into
 * the open row whose free space is the smallest that still holds it (ties: the earliest opened
 * row), or opens a new row. Free space is indexed by a {@link CountIndex} over `0..capacity`, so
 * each placement costs O(log capacity) plus the scan of one free-space bucket.
 * Rows left open by an earlier call can be passed in (`open`): that is how the bounded-buffer
 * packer (./chunked.ts) carries part-filled rows from one buffer to the next.
 * With a {@link CopyGuard}, a row that holds another copy of the piece's document is passed
 * over: the piece takes the best-fitting row it may join (the next free-space bucket when every
 * row of the best one is ruled out), or opens a new row.
 * Guarantees: no row over capacity; every piece placed exactly once; output depends only on the
 * input. BFD uses at most 11/9·OPT + 6/9 rows (Dósa 2007).
 */
import { InvariantError } from '../core/errors.ts';
import type { CopyGuard } from './copies.ts';
import { CountIndex } from './countIndex.ts';

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

/**
 * Packs `items` into rows of `capacityTokens`, after the rows in `open` (which are extended in place).
 * @param copies - when given, keeps copies of a document out of one row (see ./copies.ts).
 * @returns `open` followed by the newly opened rows, in opening order.
 * @throws InvariantError when an item is longer than the capacity or not a positive integer.
 */
export function bestFitRows(items: readonly PackItem[], capacityTokens: number, open: RowPlan[] = [], copies?: CopyGuard): RowPlan[] {
  const sorted = items.slice().sort((a, b) => b.lengthTokens - a.lengthTokens || a.ref - b.ref);
  const rows = open;
  const index = new CountIndex(capacityTokens + 1);
  const rowsByFree = new Map<number, number[]>();
  const release = (rowIndex: number) => {
    const left = capacityTokens - rows[rowIndex].usedTokens;
    if (left <= 0) return;
    index.add(left, 1);
    const bucket = rowsByFree.get(left);
    if (bucket) bucket.push(rowIndex);
    else rowsByFree.set(left, [rowIndex]);
  };
  rows.forEach((_, i) => release(i));
  for (const item of sorted) {
    if (!Number.isInteger(item.lengthTokens) || item.lengthTokens < 1 || item.lengthTokens > capacityTokens) {
      throw new InvariantError(`piece ${item.ref} has ${item.lengthTokens} tokens; pieces must be 1..${capacityTokens}`, { ref: item.ref });
    }
    let rowIndex = -1;
    for (let free = index.firstAtOrAfter(item.lengthTokens); free !== -1 && rowIndex === -1; free = index.firstAtOrAfter(free + 1)) {
      // The earliest opened row of this free space that the piece may join.
      const bucket = rowsByFree.get(free)!;
      let at = -1;
      for (let i = 0; i < bucket.length; i++) if ((at === -1 || bucket[i] < bucket[at]) && !copies?.blocks(item.ref, rows[bucket[i]])) at = i;
      if (at === -1) continue;
      rowIndex = bucket[at];
      bucket[at] = bucket[bucket.length - 1];
      bucket.pop();
      index.add(free, -1);
    }
    if (rowIndex === -1) {
      rowIndex = rows.length;
      rows.push({ refs: [], usedTokens: 0 });
    }
    rows[rowIndex].refs.push(item.ref);
    rows[rowIndex].usedTokens += item.lengthTokens;
    copies?.place(item.ref, rows[rowIndex]);
    release(rowIndex);
  }
  return rows;
}
