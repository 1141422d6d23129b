/**
 * A packing plan as columns: what the planner keeps for millions of pieces and rows (about 33
 * bytes per piece and 9 per row, no object per piece), and the conversions to and from the
 * objects the small-scale API and the tests use ({@link PlannedRow}).
 */

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

/** Pieces as columns: piece `ref` has `doc[ref]`, `repeat[ref]`, … (the fields of {@link PlacedPiece}; `truncated` 0 or 1). */
export interface PieceColumns {
  doc: Int32Array;
  repeat: Int32Array;
  cell: Int32Array;
  startToken: Int32Array;
  lengthTokens: Int32Array;
  part: Int32Array;
  parts: Int32Array;
  truncated: Uint8Array;
}

/**
 * Rows as columns: row r is `long[r]` (1: window "long"), ends with `numPad[r]` padding tokens,
 * and holds the pieces `refs[first[r]] … refs[first[r+1] - 1]`, in order.
 */
export interface RowColumns {
  count: number;
  long: Uint8Array;
  numPad: Int32Array;
  first: Int32Array;
  refs: Int32Array;
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

/** A packing plan as columns. */
export interface PackColumns {
  pieces: PieceColumns;
  /** Rows in a seeded order; their row ids come from the schedule (src/plan/schedule.ts). */
  rows: RowColumns;
  cells: CellPackCounts[];
}

/** Fresh piece columns for `count` pieces. */
export function pieceColumns(count: number): PieceColumns {
  const int = () => new Int32Array(count);
  return { doc: int(), repeat: int(), cell: int(), startToken: int(), lengthTokens: int(), part: int(), parts: int(), truncated: new Uint8Array(count) };
}

/** Piece `ref` of `pieces` as an object. */
export function pieceAt(pieces: PieceColumns, ref: number): PlacedPiece {
  return {
    doc: pieces.doc[ref],
    repeat: pieces.repeat[ref],
    cell: pieces.cell[ref],
    startToken: pieces.startToken[ref],
    lengthTokens: pieces.lengthTokens[ref],
    part: pieces.part[ref],
    parts: pieces.parts[ref],
    truncated: pieces.truncated[ref] === 1,
  };
}

/** The rows of a columnar plan as objects, in row order. */
export function rowsOfColumns(plan: Pick<PackColumns, 'pieces' | 'rows'>): PlannedRow[] {
  const { rows, pieces } = plan;
  return Array.from({ length: rows.count }, (_, r) => ({
    window: rows.long[r] ? 'long' : 'short',
    pieces: Array.from(rows.refs.subarray(rows.first[r], rows.first[r + 1]), (ref) => pieceAt(pieces, ref)),
    numPad: rows.numPad[r],
  }));
}

/** Rows given as objects, as columns (pieces numbered in row order). */
export function columnsOfRows(planned: readonly PlannedRow[]): Pick<PackColumns, 'pieces' | 'rows'> {
  const total = planned.reduce((s, r) => s + r.pieces.length, 0);
  const pieces = pieceColumns(total);
  const rows: RowColumns = {
    count: planned.length,
    long: new Uint8Array(planned.length),
    numPad: new Int32Array(planned.length),
    first: new Int32Array(planned.length + 1),
    refs: new Int32Array(total),
  };
  let ref = 0;
  planned.forEach((row, r) => {
    rows.long[r] = row.window === 'long' ? 1 : 0;
    rows.numPad[r] = row.numPad;
    for (const p of row.pieces) {
      pieces.doc[ref] = p.doc;
      pieces.repeat[ref] = p.repeat;
      pieces.cell[ref] = p.cell;
      pieces.startToken[ref] = p.startToken;
      pieces.lengthTokens[ref] = p.lengthTokens;
      pieces.part[ref] = p.part;
      pieces.parts[ref] = p.parts;
      pieces.truncated[ref] = p.truncated ? 1 : 0;
      rows.refs[ref] = ref;
      ref++;
    }
    rows.first[r + 1] = ref;
  });
  return { pieces, rows };
}
