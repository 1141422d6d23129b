/**
 * The packing plan: pure, synchronous, no I/O. From the selected documents' lengths to rows.
 *
 * 1. Each selected document becomes pieces. Long-class documents longer than `rowTokens`, and
 *    short-class documents longer than `originalWindowTokens`, are split into pieces of that
 *    limit (`split`: positions restart at 0 in each piece, nothing is lost) or cut to it
 *    (`truncate`: the tail is counted as dropped, reason "truncated").
 * 2. Pieces of each window class are put in a seeded stream order
 *    (`derivedKey(seed, "pack", source, docId, repeat, part)`, src/core/orderKeys.ts, ties by
 *    creation order, so sources interleave) and packed by best-fit decreasing with a bounded
 *    buffer ({@link packStream}); rows never mix classes.
 *    With a filler source, each long row, as it closes, takes the longest filler pieces that fit
 *    its free space ({@link FillerPool}); unused filler pieces go to short rows. Unless
 *    `allowCopiesInRow`, no row takes two copies (uses) of one document, filler included
 *    ({@link CopyGuard}); a copy goes to the best-fitting row it may join instead.
 * 3. A row's window is `long` when it holds a piece longer than `originalWindowTokens` (so
 *    `max(position_ids) + 1 > originalWindowTokens`, the trainer's RoPE switch), else `short`. A
 *    long-class row made only of split remainders that fit the window is thus labelled `short`.
 * 4. Rows are returned in a seeded order (`derivedKey(seed, "row-order")`); the plan's schedule
 *    (src/plan/schedule.ts) then sets the final global order and row ids.
 *
 * {@link packUses} works on columns (./rows.ts): at the paper's scale, millions of pieces take a
 * few dozen bytes each. {@link planPacking} is the same over objects.
 */
import { derivedKey, shuffled, SplitMix64 } from '../core/rng.ts';
import { packKey } from '../core/orderKeys.ts';
import { sortByKey } from '../core/keySort.ts';
import { FillerPool, packStream, type PackItem, type RowPlan } from './chunked.ts';
import { CopyGuard } from './copies.ts';
import { pieceColumns, rowsOfColumns, type CellPackCounts, type PackColumns, type PieceColumns, type PlannedRow } from './rows.ts';

export type { CellPackCounts, PlacedPiece, PlannedRow } from './rows.ts';

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

/** Stream of a long-class use. */
export const LONG_STREAM = 0;
/** Stream of a short-class use of a source other than the filler source. */
export const SHORT_STREAM = 1;
/** Stream of a short-class use of the filler source (`packing.longRowFiller`). */
export const FILLER_STREAM = 2;

/** Selected uses of documents as columns, in the caller's order: use u is the `repeat[u]`-th use of document `doc[u]`. */
export interface PackUses {
  doc: Int32Array;
  repeat: Int32Array;
  cell: Int32Array;
  lengthTokens: Int32Array;
  /** {@link LONG_STREAM}, {@link SHORT_STREAM} or {@link FILLER_STREAM}. */
  stream: Uint8Array;
  /** The stream-order key of part `part` of use `u` (src/core/orderKeys.ts `packKey`). */
  key(u: number, part: number): bigint;
}

/** The whole packing plan and its counts, rows as objects. */
export interface PackPlan {
  /** Rows in a seeded order; their row ids come from the schedule (src/plan/schedule.ts). */
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

/** Piece refs of one stream and their keys, both in stream order. */
interface Stream {
  refs: Int32Array;
  keys: BigUint64Array;
}

/**
 * Sorts a stream by key (ties: lower ref first, as refs grow in creation order); its keys only
 * when `withKeys` (a stream merged with another later), else an empty key array.
 */
function inStreamOrder(stream: Stream, withKeys: boolean): Stream {
  const order = sortByKey(stream.keys);
  return { refs: Int32Array.from(order, (i) => stream.refs[i]), keys: withKeys ? BigUint64Array.from(order, (i) => stream.keys[i]) : new BigUint64Array(0) };
}

/** Merges two streams in stream order by (key, ref). */
function merged(a: Stream, b: Stream): Int32Array {
  const out = new Int32Array(a.refs.length + b.refs.length);
  let i = 0;
  let j = 0;
  for (let k = 0; k < out.length; k++) {
    const takeA = j >= b.refs.length || (i < a.refs.length && (a.keys[i] < b.keys[j] || (a.keys[i] === b.keys[j] && a.refs[i] < b.refs[j])));
    out[k] = takeA ? a.refs[i++] : b.refs[j++];
  }
  return out;
}

/**
 * Cuts every use into pieces (step 1 of the file header) and gathers each stream's pieces.
 * @returns the pieces (in creation order) and the long, short and filler streams, unsorted.
 */
function cutPieces(uses: PackUses, options: PackOptions, cells: CellPackCounts[]): { pieces: PieceColumns; streams: Stream[] } {
  const n = uses.doc.length;
  const limitOf = (u: number) => (uses.stream[u] === LONG_STREAM ? options.rowTokens : options.originalWindowTokens);
  const policyOf = (u: number) => (uses.stream[u] === LONG_STREAM ? options.longDocPolicy : options.shortDocPolicy);
  const partsOf = (u: number) => (uses.lengthTokens[u] <= limitOf(u) || policyOf(u) === 'truncate' ? 1 : Math.ceil(uses.lengthTokens[u] / limitOf(u)));
  const perStream = [0, 0, 0];
  for (let u = 0; u < n; u++) perStream[uses.stream[u]] += partsOf(u);
  const pieces = pieceColumns(perStream[0] + perStream[1] + perStream[2]);
  const streams = perStream.map((count) => ({ refs: new Int32Array(count), keys: new BigUint64Array(count) }));
  const filled = [0, 0, 0];
  let ref = 0;
  for (let u = 0; u < n; u++) {
    const length = uses.lengthTokens[u];
    const limit = limitOf(u);
    const parts = partsOf(u);
    const counts = cells[uses.cell[u]];
    const truncated = length > limit && policyOf(u) === 'truncate';
    if (truncated) {
      counts.truncatedDocuments++;
      counts.truncatedTokens += length - limit;
    } else if (parts > 1) counts.splitDocuments++;
    const stream = streams[uses.stream[u]];
    for (let part = 0; part < parts; part++, ref++) {
      pieces.doc[ref] = uses.doc[u];
      pieces.repeat[ref] = uses.repeat[u];
      pieces.cell[ref] = uses.cell[u];
      pieces.startToken[ref] = part * limit;
      pieces.lengthTokens[ref] = Math.min(limit, length - part * limit);
      pieces.part[ref] = part;
      pieces.parts[ref] = parts;
      pieces.truncated[ref] = truncated ? 1 : 0;
      const at = filled[uses.stream[u]]++;
      stream.refs[at] = ref;
      stream.keys[at] = uses.key(u, part);
    }
  }
  return { pieces, streams };
}

/** Rows between two calls of {@link packUses}'s progress callback. */
const PACK_PROGRESS_EVERY = 256;

/**
 * Plans rows for the uses `uses` (the file header), as columns.
 * @param onRows - called with the rows packed so far, every 256 rows and once at the end with
 *   the final count (progress; it must not throw).
 * @throws InvariantError (from the packer) only on a bug: every piece fits a row by construction.
 */
export function packUses(uses: PackUses, options: PackOptions, onRows?: (rows: number) => void): PackColumns {
  const { rowTokens, originalWindowTokens } = options;
  const cells: CellPackCounts[] = Array.from({ length: options.cellCount }, () => ({
    splitDocuments: 0,
    truncatedDocuments: 0,
    truncatedTokens: 0,
    padTokens: 0,
    fillerTokens: 0,
  }));
  let cut: ReturnType<typeof cutPieces> | null = cutPieces(uses, options, cells);
  const { pieces } = cut;
  const [long, short, filler] = cut.streams.map((stream, s) => inStreamOrder(stream, s !== LONG_STREAM));
  cut = null; // the unsorted streams: garbage from here
  const total = pieces.doc.length;
  const item = (ref: number): PackItem => ({ ref, lengthTokens: pieces.lengthTokens[ref] });
  const copies = options.allowCopiesInRow ? undefined : copyGuard(pieces);
  const pool = new FillerPool(filler.refs.length, (i) => item(filler.refs[i]), originalWindowTokens, options.bufferTokens, copies);
  // Closed rows, in closing order (long rows, then short rows), before the seeded row order; the
  // per-row columns grow by doubling (rows are far fewer than pieces).
  const built = { count: 0, long: new Uint8Array(1024), numPad: new Int32Array(1024), first: new Int32Array(1025), refs: new Int32Array(total) };
  const emit = (row: RowPlan) => {
    if (built.count + 1 >= built.long.length) {
      const size = 2 * built.long.length;
      const long = new Uint8Array(size);
      const numPad = new Int32Array(size);
      const first = new Int32Array(size + 1);
      long.set(built.long);
      numPad.set(built.numPad);
      first.set(built.first);
      Object.assign(built, { long, numPad, first });
    }
    let longest = row.refs[0];
    for (const ref of row.refs) {
      if (pieces.lengthTokens[ref] > pieces.lengthTokens[longest]) longest = ref;
      built.refs[built.first[built.count + 1]++] = ref;
    }
    const numPad = rowTokens - row.usedTokens;
    cells[pieces.cell[longest]].padTokens += numPad;
    built.long[built.count] = pieces.lengthTokens[longest] > originalWindowTokens ? 1 : 0;
    built.numPad[built.count++] = numPad;
    built.first[built.count + 1] = built.first[built.count];
    if (built.count % PACK_PROGRESS_EVERY === 0) onRows?.(built.count);
  };
  const fill = options.fillerSource ? (row: RowPlan) => pool.fill(row, rowTokens) : undefined;
  packStream(long.refs.length, (i) => item(long.refs[i]), rowTokens, options.bufferTokens, emit, fill, copies);
  for (const i of pool.usedPositions()) cells[pieces.cell[filler.refs[i]]].fillerTokens += pieces.lengthTokens[filler.refs[i]];
  // Filler pieces that no long row took are packed into short rows with the other short sources.
  const left = pool.remaining();
  const rest = merged(short, { refs: Int32Array.from(left, (i) => filler.refs[i]), keys: BigUint64Array.from(left, (i) => filler.keys[i]) });
  packStream(rest.length, (i) => item(rest[i]), rowTokens, options.bufferTokens, emit, undefined, copies);
  onRows?.(built.count);
  return { pieces, rows: inRowOrder(built, options.seed), cells };
}

/** The built rows in the seeded row order (`derivedKey(seed, "row-order")`, a Fisher–Yates shuffle). */
function inRowOrder(built: { count: number; long: Uint8Array; numPad: Int32Array; first: Int32Array; refs: Int32Array }, seed: number): PackColumns['rows'] {
  const order = shuffled(
    Array.from({ length: built.count }, (_, i) => i),
    new SplitMix64(derivedKey(seed, 'row-order')),
  );
  const rows = {
    count: built.count,
    long: new Uint8Array(built.count),
    numPad: new Int32Array(built.count),
    first: new Int32Array(built.count + 1),
    refs: new Int32Array(built.refs.length),
  };
  order.forEach((from, r) => {
    rows.long[r] = built.long[from];
    rows.numPad[r] = built.numPad[from];
    const piecesOf = built.refs.subarray(built.first[from], built.first[from + 1]);
    rows.refs.set(piecesOf, rows.first[r]);
    rows.first[r + 1] = rows.first[r] + piecesOf.length;
  });
  return rows;
}

/**
 * Plans rows for `docs` (objects; {@link packUses} over their columns).
 * @throws InvariantError (from the packer) only on a bug: every piece fits a row by construction.
 */
export function planPacking(docs: readonly PackDoc[], options: PackOptions): PackPlan {
  const column = (f: (d: PackDoc) => number) => Int32Array.from(docs, f);
  const plan = packUses(
    {
      doc: column((d) => d.doc),
      repeat: column((d) => d.repeat),
      cell: column((d) => d.cell),
      lengthTokens: column((d) => d.lengthTokens),
      stream: Uint8Array.from(docs, (d) => (d.window === 'long' ? LONG_STREAM : d.source === options.fillerSource ? FILLER_STREAM : SHORT_STREAM)),
      key: (u, part) => packKey(options.seed, docs[u].source, docs[u].id, docs[u].repeat, part),
    },
    options,
  );
  return { rows: rowsOfColumns(plan), pieces: plan.pieces.doc.length, cells: plan.cells };
}

/** A guard over `pieces` that knows only the documents used more than once; undefined when there is none. */
function copyGuard(pieces: PieceColumns): CopyGuard | undefined {
  const repeated = new Set<number>();
  for (let ref = 0; ref < pieces.doc.length; ref++) if (pieces.repeat[ref] > 0) repeated.add(pieces.doc[ref]);
  if (repeated.size === 0) return undefined;
  return new CopyGuard((ref) => (repeated.has(pieces.doc[ref]) ? { doc: pieces.doc[ref], repeat: pieces.repeat[ref] } : undefined));
}
