/**
 * Best-fit decreasing bin packing of pieces into rows of a fixed capacity (tokens).
 *
 * Algorithm: pieces are sorted by length, longest first (ties: lower `ref` first); each goes into
 * the open row whose free space is the smallest that still holds it (ties: the earliest opened
 * row), or opens a new row. Free space is indexed by a {@link CountIndex} over `0..capacity`, so
 * each placement costs O(log capacity) plus the scan of one free-space bucket.
 * Rows left open by an earlier call can be passed in (`open`): that is how the bounded-buffer
 * packer (./chunked.ts) carries part-filled rows from one buffer to the next.
 * Guarantees: no row over capacity; every piece placed exactly once; output depends only on the
 * input. BFD uses at most 11/9·OPT + 6/9 rows (Dósa 2007).
 */
import { InvariantError } from '../core/errors.ts';
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
 * @returns `open` followed by the newly opened rows, in opening order.
 * @throws InvariantError when an item is longer than the capacity or not a positive integer.
 */
export function bestFitRows(items: readonly PackItem[], capacityTokens: number, open: RowPlan[] = []): RowPlan[] {
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
    rows[rowIndex].refs.push(item.ref);
    rows[rowIndex].usedTokens += item.lengthTokens;
    release(rowIndex);
  }
  return rows;
}
