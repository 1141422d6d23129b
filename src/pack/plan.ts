/**
 * The packing plan: pure, synchronous, no I/O. From the selected documents' lengths to rows.
 *
 * 1. Each selected document becomes pieces. Long-class documents longer than `rowTokens`, and
 *    short-class documents longer than `originalWindowTokens`, are split into pieces of that
 *    limit (`split`: positions restart at 0 in each piece, nothing is lost) or cut to it
 *    (`truncate`: the tail is counted as dropped, reason "truncated").
 * 2. Pieces of each window class are put in a seeded stream order
 *    (`derivedKey(seed, "pack", source, docId, repeat, part)`, so sources interleave) and packed by
 *    best-fit decreasing with a bounded buffer ({@link packChunked}); rows never mix classes.
 *    With a filler source, each long row, as it closes, takes the longest filler pieces that fit
 *    its free space ({@link FillerPool}); unused filler pieces go to short rows. Unless
 *    `allowCopiesInRow`, no row takes two copies (uses) of one document, filler included
 *    ({@link CopyGuard}); a copy goes to the best-fitting row it may join instead.
 * 3. A row's window is `long` when it holds a piece longer than `originalWindowTokens` (so
 *    `max(position_ids) + 1 > originalWindowTokens`, the trainer's RoPE switch), else `short`. A
 *    long-class row made only of split remainders that fit the window is thus labelled `short`.
 * 4. Rows are returned in a seeded order (`derivedKey(seed, "row-order")`); the write stage's
 *    schedule (src/write/layout.ts) then sets the final global order and row ids.
 */
import { derivedKey, shuffled, SplitMix64 } from '../core/rng.ts';
import { splitDocument } from './split.ts';
import { FillerPool, packChunked, type PackItem, type RowPlan } from './chunked.ts';
import { CopyGuard, type CopyOf } from './copies.ts';

/** A selected use of a document, as the packer sees it. */
export interface PackDoc {
  /** Caller's handle (index into its document table). */
  doc: number;
  /** Stable labels for the seeded stream order. */
  source: string;
  id: string;
  /** 0 for a document's first use, k for its (k+1)-th use (repetition). */
  repeat: number;
  /** Caller's cell index, for per-cell counts. */
  cell: number;
  lengthTokens: number;
  window: 'short' | 'long';
}

/** A piece placed in a row: tokens `[startToken, startToken + lengthTokens)` of document `doc`. */
export interface PlacedPiece {
  doc: number;
  repeat: number;
  cell: number;
  startToken: number;
  lengthTokens: number;
  /** 0-based part number and number of parts (1 when the document is whole or truncated). */
  part: number;
  parts: number;
  /** True when the piece is a document cut by a `truncate` policy (its tail dropped). */
  truncated: boolean;
}

/** One output row: its pieces in order, then `numPad` padding tokens. */
export interface PlannedRow {
  window: 'short' | 'long';
  pieces: PlacedPiece[];
  numPad: number;
}

/** Per-cell counts of a packing, indexed by the caller's cell index. Tokens. */
export interface CellPackCounts {
  splitDocuments: number;
  truncatedDocuments: number;
  truncatedTokens: number;
  /** Padding of the rows whose longest piece comes from this cell. */
  padTokens: number;
  /** Tokens of this cell placed into long rows as filler. */
  fillerTokens: number;
}

/** The whole packing plan and its counts. */
export interface PackPlan {
  /** Rows in a seeded order; their row ids come from the schedule (src/write/layout.ts). */
  rows: PlannedRow[];
  pieces: number;
  cells: CellPackCounts[];
}

/** Geometry, policies and seed of a packing. */
export interface PackOptions {
  rowTokens: number;
  originalWindowTokens: number;
  seed: number;
  /** Tokens of pieces per best-fit buffer; at least rowTokens. */
  bufferTokens: number;
  longDocPolicy: 'split' | 'truncate';
  shortDocPolicy: 'split' | 'truncate';
  /** Source whose short pieces fill long rows first, if any. */
  fillerSource?: string;
  /** Let copies (uses) of one document share a row (recipe `packing.allowCopiesInRow`); default false. */
  allowCopiesInRow?: boolean;
  /** Number of cells (for the counts array). */
  cellCount: number;
}

/**
 * Plans rows for `docs`.
 * @throws InvariantError (from the packer) only on a bug: every piece fits a row by construction.
 */
export function planPacking(docs: readonly PackDoc[], options: PackOptions): PackPlan {
  const { rowTokens, originalWindowTokens } = options;
  const cells: CellPackCounts[] = Array.from({ length: options.cellCount }, () => ({
    splitDocuments: 0,
    truncatedDocuments: 0,
    truncatedTokens: 0,
    padTokens: 0,
    fillerTokens: 0,
  }));
  const pieces: PlacedPiece[] = [];
  const streams = {
    long: [] as { key: bigint; item: PackItem }[],
    short: [] as { key: bigint; item: PackItem }[],
    filler: [] as { key: bigint; item: PackItem }[],
  };
  for (const d of docs) {
    const limit = d.window === 'long' ? rowTokens : originalWindowTokens;
    const policy = d.window === 'long' ? options.longDocPolicy : options.shortDocPolicy;
    const counts = cells[d.cell];
    let spans: { startToken: number; lengthTokens: number }[];
    if (d.lengthTokens <= limit) spans = [{ startToken: 0, lengthTokens: d.lengthTokens }];
    else if (policy === 'truncate') {
      spans = [{ startToken: 0, lengthTokens: limit }];
      counts.truncatedDocuments++;
      counts.truncatedTokens += d.lengthTokens - limit;
    } else {
      spans = splitDocument(d.lengthTokens, limit);
      counts.splitDocuments++;
    }
    const stream = d.window === 'long' ? streams.long : d.source === options.fillerSource ? streams.filler : streams.short;
    const truncated = spans.length === 1 && spans[0].lengthTokens < d.lengthTokens;
    spans.forEach((span, part) => {
      const ref = pieces.length;
      pieces.push({ doc: d.doc, repeat: d.repeat, cell: d.cell, ...span, part, parts: spans.length, truncated });
      stream.push({ key: derivedKey(options.seed, 'pack', d.source, d.id, String(d.repeat), String(part)), item: { ref, lengthTokens: span.lengthTokens } });
    });
  }
  const keyOf = new Map<number, bigint>();
  for (const s of Object.values(streams)) for (const x of s) keyOf.set(x.item.ref, x.key);
  const inOrder = (items: PackItem[]) =>
    items.slice().sort((a, b) => {
      const ka = keyOf.get(a.ref)!;
      const kb = keyOf.get(b.ref)!;
      return ka < kb ? -1 : ka > kb ? 1 : a.ref - b.ref;
    });
  const copies = options.allowCopiesInRow ? undefined : copyGuard(pieces);
  const filler = new FillerPool(inOrder(streams.filler.map((x) => x.item)), originalWindowTokens, options.bufferTokens, copies);
  const fill = options.fillerSource ? (row: RowPlan) => filler.fill(row, rowTokens) : undefined;
  const longRows = packChunked(inOrder(streams.long.map((x) => x.item)), rowTokens, options.bufferTokens, fill, copies);
  for (const ref of filler.usedRefs) cells[pieces[ref].cell].fillerTokens += pieces[ref].lengthTokens;
  // Filler pieces that no long row took are packed into short rows with the other short sources.
  const shortRows = packChunked(inOrder([...streams.short.map((x) => x.item), ...filler.remaining()]), rowTokens, options.bufferTokens, undefined, copies);
  const rows: PlannedRow[] = [];
  for (const plan of [...longRows, ...shortRows]) {
    const rowPieces = plan.refs.map((ref) => pieces[ref]);
    let longest = rowPieces[0];
    for (const p of rowPieces) if (p.lengthTokens > longest.lengthTokens) longest = p;
    const numPad = rowTokens - plan.usedTokens;
    cells[longest.cell].padTokens += numPad;
    rows.push({ window: longest.lengthTokens > originalWindowTokens ? 'long' : 'short', pieces: rowPieces, numPad });
  }
  return { rows: shuffled(rows, new SplitMix64(derivedKey(options.seed, 'row-order'))), pieces: pieces.length, cells };
}

/** A guard over `pieces` that knows only the documents used more than once; undefined when there is none. */
function copyGuard(pieces: readonly PlacedPiece[]): CopyGuard | undefined {
  const repeated = new Set<number>();
  for (const p of pieces) if (p.repeat > 0) repeated.add(p.doc);
  if (repeated.size === 0) return undefined;
  return new CopyGuard((ref): CopyOf | undefined => (repeated.has(pieces[ref].doc) ? pieces[ref] : undefined));
}
