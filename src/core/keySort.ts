/**
 * Orders positions by 64-bit keys without an object or a bigint per element: what the planner
 * uses to put millions of documents and pieces in their seeded orders (src/select/plan.ts,
 * src/pack/plan.ts) within a few bytes each.
 *
 * Algorithm: least-significant-digit radix sort of the positions `0..n-1` by `keys[position]`,
 * four passes of 16 bits over the key split into two 32-bit halves (stable, O(n)); then each run
 * of equal keys is ordered by the caller's tie-break, stably. The result is the order
 * `Array.prototype.sort` gives with the comparator "key, then tie-break, then position".
 * Memory: 16 bytes per element besides the keys (the halves and two position buffers).
 */

/** Compares two positions whose keys are equal (negative: `a` first). */
export type TieBreak = (a: number, b: number) => number;

/** Positions `0..keys.length-1`, ordered by key ascending, then `tie`, then position. */
export function sortByKey(keys: BigUint64Array, tie?: TieBreak): Int32Array {
  const n = keys.length;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    hi[i] = Number(k >> 32n);
    lo[i] = Number(k & 0xffffffffn);
  }
  let from = new Int32Array(n);
  let to = new Int32Array(n);
  for (let i = 0; i < n; i++) from[i] = i;
  const counts = new Int32Array(1 << 16);
  for (const [half, shift] of [
    [lo, 0],
    [lo, 16],
    [hi, 0],
    [hi, 16],
  ] as const) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(half[from[i]] >>> shift) & 0xffff]++;
    let sum = 0;
    for (let d = 0; d < counts.length; d++) {
      const c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const p = from[i];
      to[counts[(half[p] >>> shift) & 0xffff]++] = p;
    }
    [from, to] = [to, from];
  }
  if (tie) breakTies(from, hi, lo, tie);
  return from;
}

/** Orders each run of equal keys in `order` by `tie`, then by position (the run is in position order). */
function breakTies(order: Int32Array, hi: Uint32Array, lo: Uint32Array, tie: TieBreak): void {
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && hi[order[end]] === hi[order[start]] && lo[order[end]] === lo[order[start]]) end++;
    if (end - start > 1) {
      const run = Array.from(order.subarray(start, end)).sort((a, b) => tie(a, b) || a - b);
      order.set(run, start);
    }
    start = end;
  }
}
