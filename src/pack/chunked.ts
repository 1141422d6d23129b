/**
 * Best-fit decreasing with a bounded buffer, and the filler pool for long rows.
 *
 * `packChunked`: pieces arrive in a seeded stream order; they are gathered into a buffer of
 * `bufferTokens`, which is packed with best-fit decreasing into the rows still open from earlier
 * buffers plus new rows. Then full rows are closed, and while more than
 * `max(1, floor(bufferTokens / capacity))` rows stay open, the fullest are closed. So memory holds
 * at most one buffer of pieces and a bounded number of open rows, whatever the corpus size;
 * a larger buffer gives less padding (measured by `pnpm bench`).
 *
 * `FillerPool`: a bounded buffer of short pieces (in stream order) from which a closing long row
 * takes, repeatedly, the longest piece that fits its free space.
 *
 * Both take an optional {@link CopyGuard}: a piece never joins a row that holds another copy of
 * its document (a filler piece passes over such a row for the next longest that may join it).
 */
import { bestFitRows, type PackItem, type RowPlan } from './bestFitRows.ts';
import type { CopyGuard } from './copies.ts';
import { CountIndex } from './countIndex.ts';

export type { PackItem, RowPlan };

/**
 * Packs `items` (in stream order) into rows of `capacityTokens`.
 * @param onClose - called for each row as it closes (before it is returned), e.g. to add filler.
 * @param copies - keeps copies of a document out of one row (./copies.ts).
 * @returns rows in closing order.
 */
export function packChunked(
  items: readonly PackItem[],
  capacityTokens: number,
  bufferTokens: number,
  onClose?: (row: RowPlan) => void,
  copies?: CopyGuard,
): RowPlan[] {
  const maxOpen = Math.max(1, Math.floor(bufferTokens / capacityTokens));
  const closed: RowPlan[] = [];
  let open: RowPlan[] = [];
  let buffer: PackItem[] = [];
  let buffered = 0;
  const close = (rows: RowPlan[]) => {
    for (const row of rows) {
      onClose?.(row);
      closed.push(row);
    }
  };
  const flush = (final: boolean) => {
    open = bestFitRows(buffer, capacityTokens, open, copies);
    buffer = [];
    buffered = 0;
    if (final) {
      close(open);
      open = [];
      return;
    }
    const full = open.filter((r) => r.usedTokens === capacityTokens);
    let rest = open.filter((r) => r.usedTokens < capacityTokens);
    close(full);
    if (rest.length > maxOpen) {
      // Close the fullest rows (ties: earliest opened); keep the emptiest open for the next buffer.
      const order = rest.map((r, i) => ({ r, i })).sort((a, b) => b.r.usedTokens - a.r.usedTokens || a.i - b.i);
      const keep = new Set(order.slice(order.length - maxOpen).map((x) => x.r));
      close(order.slice(0, order.length - maxOpen).map((x) => x.r));
      rest = rest.filter((r) => keep.has(r));
    }
    open = rest;
  };
  for (const item of items) {
    buffer.push(item);
    buffered += item.lengthTokens;
    if (buffered >= bufferTokens) flush(false);
  }
  flush(true);
  return closed;
}

/** Short pieces that long rows take as filler, longest that fits first. */
export class FillerPool {
  private readonly byLength = new Map<number, PackItem[]>();
  private readonly index: CountIndex;
  private next = 0;
  private buffered = 0;
  /** Refs of the pieces handed out as filler, in the order they were taken. */
  readonly usedRefs: number[] = [];

  /**
   * @param items - filler pieces in stream order, each at most `maxPieceTokens` long.
   * @param bufferTokens - pieces held at once (bounded memory).
   * @param copies - keeps copies of a document out of one row.
   */
  constructor(
    private readonly items: readonly PackItem[],
    maxPieceTokens: number,
    private readonly bufferTokens: number,
    private readonly copies?: CopyGuard,
  ) {
    this.index = new CountIndex(maxPieceTokens + 1);
    this.refill();
  }

  private refill(): void {
    while (this.next < this.items.length && this.buffered < this.bufferTokens) {
      const item = this.items[this.next++];
      const list = this.byLength.get(item.lengthTokens);
      if (list) list.push(item);
      else this.byLength.set(item.lengthTokens, [item]);
      this.index.add(item.lengthTokens, 1);
      this.buffered += item.lengthTokens;
    }
  }

  /**
   * Fills `row` (of `capacityTokens`) with the longest buffered pieces that fit, in place: of
   * each length, the first in stream order that the row may take (see the file header).
   */
  fill(row: RowPlan, capacityTokens: number): void {
    for (;;) {
      const free = capacityTokens - row.usedTokens;
      let length = free > 0 ? this.index.lastAtOrBefore(Math.min(free, this.index.size - 1)) : -1;
      let at = -1;
      for (; length > 0; length = this.index.lastAtOrBefore(length - 1)) {
        const list = this.byLength.get(length)!;
        at = this.copies ? list.findIndex((item) => !this.copies!.blocks(item.ref, row)) : 0;
        if (at !== -1) break;
      }
      if (length <= 0) return;
      const [item] = this.byLength.get(length)!.splice(at, 1);
      this.index.add(length, -1);
      this.buffered -= length;
      row.refs.push(item.ref);
      row.usedTokens += length;
      this.copies?.place(item.ref, row);
      this.usedRefs.push(item.ref);
      this.refill();
    }
  }

  /** Pieces never used as filler, in stream order. */
  remaining(): PackItem[] {
    const left = new Set<PackItem>();
    for (const list of this.byLength.values()) for (const item of list) left.add(item);
    return this.items.filter((item, i) => i >= this.next || left.has(item));
  }
}
