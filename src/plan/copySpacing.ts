/**
 * Copies of a document kept apart in the training order (recipe `packing.repeatSpacingRows`).
 * Pure.
 *
 * The packer already keeps two copies (uses under `maxRepetition > 1`) of a document out of one
 * row (src/pack/copies.ts). With `repeatSpacingRows = s > 0`, rows that hold different copies of
 * one document must also be more than `s` global positions apart, so that the same text is not
 * read in the same or neighbouring steps (`s = globalBatchRows − 1`: never in one global batch).
 * Pieces of one copy (split parts) may be anywhere.
 *
 * Algorithm: one pass over the global order. A row whose copies would sit within `s` positions of
 * another copy placed earlier is swapped with the first later row of the same window class that
 * fits there; when no later row fits (near the end of the order), with the first earlier row of
 * that class such that both fit in their new places. Swaps stay within a window class, so each
 * step keeps its number of long rows (the mix ratio per global batch); rows without copies keep
 * their places unless a swap moves them. Deterministic; O(rows) without conflicts, O(rows · s)
 * per conflict. Greedy: it can fail where some order would satisfy the spacing (many copies
 * in few rows of a class); the error then names the document and the fix.
 */
import { ConfigError } from '../core/errors.ts';
import type { PlannedRow } from '../pack/plan.ts';
import type { PackColumns } from '../pack/rows.ts';
import type { Schedule } from './schedule.ts';

/** A use of a document in a row. */
interface Copy {
  doc: number;
  repeat: number;
}

/** The rows as the spacing sees them: row r's window and the copies its pieces hold. */
interface RowsView {
  count: number;
  window(row: number): 'short' | 'long';
  pieces(row: number): Iterable<Copy>;
}

/** True when rows `a` and `b` hold different copies of one document. */
function clashes(a: readonly Copy[], b: readonly Copy[]): boolean {
  return a.some((x) => b.some((y) => x.doc === y.doc && x.repeat !== y.repeat));
}

/** The (document, copy) pairs of row `row`, for documents used more than once. */
function copiesOf(rows: RowsView, row: number, repeated: ReadonlySet<number>): Copy[] {
  const out = new Map<string, Copy>();
  for (const p of rows.pieces(row)) if (repeated.has(p.doc)) out.set(`${p.doc}:${p.repeat}`, { doc: p.doc, repeat: p.repeat });
  return [...out.values()];
}

/**
 * Reorders `schedule.order` in place so that rows holding different copies of a document are
 * more than `spacingRows` positions apart (see the file header).
 * @param rows - the packing plan's rows (`schedule.order` indexes them).
 * @param nameOf - a document's name for messages (`source "s" document "id"`).
 * @throws ConfigError naming the document and position when no later row of the same window can
 *   take a conflicting row's place, with the fix.
 */
export function spaceCopies(schedule: Schedule, rows: readonly PlannedRow[], spacingRows: number, nameOf: (doc: number) => string): void {
  spaceCopiesOf(schedule, { count: rows.length, window: (r) => rows[r].window, pieces: (r) => rows[r].pieces }, spacingRows, nameOf);
}

/**
 * {@link spaceCopies} over a columnar plan (src/pack/rows.ts): `schedule.order` indexes `plan.rows`.
 * @throws ConfigError as {@link spaceCopies}.
 */
export function spaceCopiesInColumns(
  schedule: Schedule,
  plan: Pick<PackColumns, 'rows' | 'pieces'>,
  spacingRows: number,
  nameOf: (doc: number) => string,
): void {
  const { rows, pieces } = plan;
  const view: RowsView = {
    count: rows.count,
    window: (r) => (rows.long[r] ? 'long' : 'short'),
    pieces: (r) => Array.from(rows.refs.subarray(rows.first[r], rows.first[r + 1]), (ref) => ({ doc: pieces.doc[ref], repeat: pieces.repeat[ref] })),
  };
  spaceCopiesOf(schedule, view, spacingRows, nameOf);
}

/** {@link spaceCopies} over a view of the rows. */
function spaceCopiesOf(schedule: Schedule, rows: RowsView, spacingRows: number, nameOf: (doc: number) => string): void {
  if (spacingRows <= 0) return;
  const repeated = new Set<number>();
  for (let r = 0; r < rows.count; r++) for (const p of rows.pieces(r)) if (p.repeat > 0) repeated.add(p.doc);
  if (repeated.size === 0) return;
  const copies = Array.from({ length: rows.count }, (_, r) => copiesOf(rows, r, repeated));
  /** doc -> (copy -> last position holding it). */
  const lastAt = new Map<number, Map<number, number>>();
  const clash = (row: number, p: number): number | undefined => {
    for (const { doc, repeat } of copies[row]) {
      for (const [other, at] of lastAt.get(doc) ?? []) if (other !== repeat && p - at <= spacingRows) return doc;
    }
    return undefined;
  };
  const { order } = schedule;
  for (let p = 0; p < order.length; p++) {
    const doc = clash(order[p], p);
    if (doc !== undefined) {
      let q = p + 1;
      while (q < order.length && (rows.window(order[q]) !== rows.window(order[p]) || clash(order[q], p) !== undefined)) q++;
      if (q === order.length) q = earlierSwap(order, p, rows, copies, spacingRows);
      if (q === -1) {
        throw new ConfigError(
          `packing.repeatSpacingRows: cannot keep the copies of ${nameOf(doc)} more than ${spacingRows} rows apart (row ${p} of ${order.length}, no later ${rows.window(order[p])} row can take its place); lower packing.repeatSpacingRows, or the maxRepetition of its source`,
          { doc, position: p, spacingRows },
        );
      }
      [order[p], order[q]] = [order[q], order[p]];
      if (q < p) record(q);
    }
    record(p);
  }

  function record(position: number): void {
    for (const { doc: d, repeat } of copies[order[position]]) {
      let at = lastAt.get(d);
      if (!at) lastAt.set(d, (at = new Map()));
      at.set(repeat, Math.max(at.get(repeat) ?? -1, position));
    }
  }
}

/**
 * The first earlier position `r < p` whose row has the window of the row at `p` such that, once
 * the two are swapped, neither clashes with a placed row (positions `0..p`) within `s`; -1 if none.
 */
function earlierSwap(order: readonly number[], p: number, rows: RowsView, copies: readonly Copy[][], s: number): number {
  const a = order[p];
  const fitsAt = (row: number, at: number, other: number, otherAt: number) => {
    for (let j = Math.max(0, at - s); j <= Math.min(p, at + s); j++) {
      if (j === at) continue;
      const there = j === otherAt ? other : order[j];
      if (clashes(copies[row], copies[there])) return false;
    }
    return true;
  };
  for (let r = 0; r < p; r++) {
    const b = order[r];
    if (rows.window(b) !== rows.window(a)) continue;
    if (fitsAt(a, r, b, p) && fitsAt(b, p, a, r)) return r;
  }
  return -1;
}
