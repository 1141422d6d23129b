/**
 * Copies of a document kept out of one row (recipe `packing.allowCopiesInRow`, default false).
 *
 * Under `maxRepetition > 1` a document is selected several times; each use is a copy (`repeat`
 * 0, 1, …). Best-fit decreasing sorts pieces by length, so equal-length copies would sit side by
 * side in one row, where a model with `longRowAttention: full` reads the first copy while it
 * predicts the second. The guard tells the packers which open rows a piece may not join: a row
 * that already holds another copy of its document. Pieces of the same copy (split parts) may
 * share a row. Only documents with more than one copy are tracked, so a build without repetition
 * pays one map lookup per placement.
 */
import type { RowPlan } from './bestFitRows.ts';

/** Which document and which use a piece belongs to. */
export interface CopyOf {
  /** The caller's document handle. */
  doc: number;
  /** 0 for the first use, k for the (k+1)-th. */
  repeat: number;
}

/** Tracks, per row, the copy of each repeated document it holds. */
export class CopyGuard {
  /** doc -> (row -> the copy of doc that row holds). */
  private readonly rowsOf = new Map<number, Map<RowPlan, number>>();

  /**
   * @param copyOf - the document and use of piece `ref`, or undefined when its document is used
   *   only once (it can never conflict).
   */
  constructor(private readonly copyOf: (ref: number) => CopyOf | undefined) {}

  /** True when `row` holds another copy of piece `ref`'s document. */
  blocks(ref: number, row: RowPlan): boolean {
    const copy = this.copyOf(ref);
    if (!copy) return false;
    const held = this.rowsOf.get(copy.doc)?.get(row);
    return held !== undefined && held !== copy.repeat;
  }

  /** Records that piece `ref` was placed in `row`. */
  place(ref: number, row: RowPlan): void {
    const copy = this.copyOf(ref);
    if (!copy) return;
    let rows = this.rowsOf.get(copy.doc);
    if (!rows) this.rowsOf.set(copy.doc, (rows = new Map()));
    rows.set(row, copy.repeat);
  }
}
