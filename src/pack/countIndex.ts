/**
 * A count per integer key in `[0, size)` with O(log size) successor and predecessor queries over
 * the keys whose count is non-zero (a segment tree of counts). Used by the packers to find
 * "the smallest free space that holds this piece" and "the longest piece that fits this space".
 */
export class CountIndex {
  private readonly leaves: number;
  private readonly tree: Uint32Array;

  /** @param size - keys are `0..size-1`. */
  constructor(readonly size: number) {
    let leaves = 1;
    while (leaves < size) leaves *= 2;
    this.leaves = leaves;
    this.tree = new Uint32Array(2 * leaves);
  }

  /** Adds `delta` (may be negative) to the count of `key`. */
  add(key: number, delta: number): void {
    for (let i = key + this.leaves; i >= 1; i >>= 1) this.tree[i] += delta;
  }

  /** Smallest key `>= from` with a non-zero count, or -1. */
  firstAtOrAfter(from: number): number {
    return this.first(1, 0, this.leaves, from);
  }

  /** Largest key `<= to` with a non-zero count, or -1. */
  lastAtOrBefore(to: number): number {
    return this.last(1, 0, this.leaves, to);
  }

  private first(node: number, lo: number, hi: number, from: number): number {
    if (hi <= from || this.tree[node] === 0) return -1;
    if (hi - lo === 1) return lo;
    const mid = (lo + hi) >> 1;
    const left = this.first(2 * node, lo, mid, from);
    return left !== -1 ? left : this.first(2 * node + 1, mid, hi, from);
  }

  private last(node: number, lo: number, hi: number, to: number): number {
    if (lo > to || this.tree[node] === 0) return -1;
    if (hi - lo === 1) return lo;
    const mid = (lo + hi) >> 1;
    const right = this.last(2 * node + 1, mid, hi, to);
    return right !== -1 ? right : this.last(2 * node, lo, mid, to);
  }
}
