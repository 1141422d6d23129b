/**
 * Best-fit decreasing with a bounded buffer, and the filler pool for long rows.
 *
 * `packStream` (and `packChunked`, which returns the rows): pieces arrive in a seeded stream order; they are gathered into a buffer of
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
 * Packs the items `itemAt(0..count-1)` (in stream order) into rows of `capacityTokens`, handing
 * each row to `emit` as it closes; only the buffer and the open rows are held.
 * @param onClose - called for each row as it closes (before `emit`), e.g. to add filler.
 * @param copies - keeps copies of a document out of one row (./copies.ts).
 */
export function packStream(
  count: number,
  itemAt: (i: number) => PackItem,
  capacityTokens: number,
  bufferTokens: number,
  emit: (row: RowPlan) => void,
  onClose?: (row: RowPlan) => void,
  copies?: CopyGuard,
): void {
  const maxOpen = Math.max(1, Math.floor(bufferTokens / capacityTokens));
  let open: RowPlan[] = [];
  let buffer: PackItem[] = [];
  let buffered = 0;
  const close = (rows: RowPlan[]) => {
    for (const row of rows) {
      onClose?.(row);
      emit(row);
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
  for (let i = 0; i < count; i++) {
    const item = itemAt(i);
    buffer.push(item);
    buffered += item.lengthTokens;
    if (buffered >= bufferTokens) flush(false);
  }
  flush(true);
}

/**
 * Packs `items` (in stream order) into rows of `capacityTokens` ({@link packStream}).
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
  const closed: RowPlan[] = [];
  packStream(
    items.length,
    (i) => items[i],
    capacityTokens,
    bufferTokens,
    (row) => closed.push(row),
    onClose,
    copies,
  );
  return closed;
}

/** A buffered filler piece and its position in the pool's stream order. */
interface PoolItem extends PackItem {
  position: number;
}

/** Short pieces that long rows take as filler, longest that fits first. */
export class FillerPool {
  private readonly byLength = new Map<number, PoolItem[]>();
  private readonly index: CountIndex;
  private next = 0;
  private buffered = 0;
  /** 1 at the stream position of each piece handed out as filler. */
  private readonly used: Uint8Array;

  /**
   * @param count - filler pieces, `itemAt(0..count-1)` in stream order, each at most `maxPieceTokens` long.
   * @param bufferTokens - pieces held at once (bounded memory).
   * @param copies - keeps copies of a document out of one row.
   */
  constructor(
    private readonly count: number,
    private readonly itemAt: (position: number) => PackItem,
    maxPieceTokens: number,
    private readonly bufferTokens: number,
    private readonly copies?: CopyGuard,
  ) {
    this.index = new CountIndex(maxPieceTokens + 1);
    this.used = new Uint8Array(count);
    this.refill();
  }

  private refill(): void {
    while (this.next < this.count && this.buffered < this.bufferTokens) {
      const position = this.next++;
      const item = { ...this.itemAt(position), position };
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
      this.used[item.position] = 1;
      this.refill();
    }
  }

  /** Stream positions of the pieces handed out as filler, ascending. */
  usedPositions(): Int32Array {
    return this.positions(1);
  }

  /** Stream positions of the pieces never used as filler, ascending (stream order). */
  remaining(): Int32Array {
    return this.positions(0);
  }

  private positions(used: 0 | 1): Int32Array {
    let n = 0;
    for (let i = 0; i < this.count; i++) if (this.used[i] === used) n++;
    const out = new Int32Array(n);
    for (let i = 0, j = 0; i < this.count; i++) if (this.used[i] === used) out[j++] = i;
    return out;
  }
}
