/**
 * The packing plan: pure, synchronous, no I/O. From the selected documents' lengths to rows.
 *
 * 1. Documents longer than `rowTokens` are split into pieces ({@link splitDocument}).
 * 2. Pieces of short-class sources and of long-class sources are packed separately with
 *    best-fit decreasing ({@link packBestFitDecreasing}): rows never mix window classes.
 * 3. A row's window is `long` when it holds a piece longer than `originalWindowTokens` (so
 *    `max(position_ids) + 1 > originalWindowTokens`, the trainer's RoPE switch), else `short`.
 *    A long-class row made only of split remainders that fit the original window is therefore
 *    labelled `short`, which is what the trainer would see from its position ids.
 * 4. Rows are put in a seed-determined order (SplitMix64 keyed by `derivedKey(seed, "row-order")`),
 *    so shards are not sorted by source or length.
 */
import { derivedKey, shuffled, SplitMix64 } from '../core/rng.ts';
import { packBestFitDecreasing } from './bestFit.ts';
import { splitDocument } from './split.ts';

/** A selected document, as the packer sees it. */
export interface PackDoc {
  /** Caller's handle (index into its document table). */
  doc: number;
  lengthTokens: number;
  window: 'short' | 'long';
}

/** A piece placed in a row: tokens `[startToken, startToken + lengthTokens)` of document `doc`. */
export interface PlacedPiece {
  doc: number;
  startToken: number;
  lengthTokens: number;
  part: number;
  parts: number;
}

/** One output row: its pieces in order, then `numPad` padding tokens. */
export interface PlannedRow {
  window: 'short' | 'long';
  pieces: PlacedPiece[];
  numPad: number;
}

/** The whole packing plan and its counts. */
export interface PackPlan {
  /** Rows in output order; row id = index. */
  rows: PlannedRow[];
  /** Documents that were split because they are longer than a row. */
  splitDocuments: number;
  /** Total pieces. */
  pieces: number;
}

/** Geometry and seed of a packing. */
export interface PackGeometry {
  rowTokens: number;
  originalWindowTokens: number;
  seed: number;
}

/**
 * Plans rows for `docs`.
 * @throws InvariantError (from the packer) only on a bug: every piece fits a row by construction.
 */
export function planPacking(docs: readonly PackDoc[], geometry: PackGeometry): PackPlan {
  const pieces: PlacedPiece[] = [];
  const pieceWindow: ('short' | 'long')[] = [];
  let splitDocuments = 0;
  for (const d of docs) {
    const spans = splitDocument(d.lengthTokens, geometry.rowTokens);
    if (spans.length > 1) splitDocuments++;
    for (const span of spans) {
      pieces.push({ doc: d.doc, ...span });
      pieceWindow.push(d.window);
    }
  }
  const rows: PlannedRow[] = [];
  for (const windowClass of ['long', 'short'] as const) {
    const items = pieces.flatMap((p, ref) => (pieceWindow[ref] === windowClass ? [{ ref, lengthTokens: p.lengthTokens }] : []));
    for (const plan of packBestFitDecreasing(items, geometry.rowTokens)) {
      const rowPieces = plan.refs.map((ref) => pieces[ref]);
      const longest = rowPieces.reduce((max, p) => Math.max(max, p.lengthTokens), 0);
      rows.push({
        window: longest > geometry.originalWindowTokens ? 'long' : 'short',
        pieces: rowPieces,
        numPad: geometry.rowTokens - plan.usedTokens,
      });
    }
  }
  const order = shuffled(rows, new SplitMix64(derivedKey(geometry.seed, 'row-order')));
  return { rows: order, splitDocuments, pieces: pieces.length };
}
