/**
 * The document table of a census unit on disk, `<unit>.docs.arrow`: one Arrow IPC file (apache-arrow)
 * with one record batch, one row per in-cell document in document order:
 *
 * | column | type | meaning |
 * |---|---|---|
 * | `cell` | Int32 | index among the source's cells (bucket order) |
 * | `lengthTokens` | Int32 | tokens, BOS/EOS included; document i starts at token `sum(lengthTokens[0..i))` of the token file |
 * | `id` | Utf8 | the id the data gives, or its location when it gives none |
 * | `idWhere` | Utf8, nullable | the location (`<idPath>:<line>` or `<idPath>#<row>`); null when it equals `id` |
 * | `selectionKey` | Uint64 | `selectionKey(seed, source, id)` (src/core/orderKeys.ts) |
 * | `packKey` | Uint64 | `packKey(seed, source, id, 0, 0)` |
 *
 * Schema metadata `longmix`: `{"format":"longmix-docs/1","source":…,"seed":…}`; the keys hold only
 * for that source and seed, and the reader checks both. The keys are computed here, in the
 * census units (in parallel), so that the plan orders millions of documents without hashing
 * their ids again; they are those of the id the data gives, and the plan recomputes them for
 * the few documents whose id it makes unique (src/plan/docs.ts).
 *
 * In memory the plan keeps the columns as typed arrays over the file's bytes ({@link DocColumns}),
 * about 36 bytes per document plus its id, and decodes an id to a string only when it needs it.
 */
import { Field, Int32, makeData, RecordBatch, Schema, Struct, Table, tableFromIPC, tableToIPC, Uint64, Utf8, type Data } from 'apache-arrow';
import { InvariantError } from '../core/errors.ts';
import { packKey, selectionKey } from '../core/orderKeys.ts';
import type { DocTable } from './store.ts';

/** Format tag in the table's schema metadata. */
export const DOC_TABLE_FORMAT = 'longmix-docs/1';

/** A UTF-8 string column: string i is `bytes[offsets[i], offsets[i+1])`; `validity` is Arrow's bitmap (null: no nulls). */
export interface Utf8Column {
  offsets: Int32Array;
  bytes: Buffer;
  validity: Uint8Array | null;
}

/** A unit's document table as typed arrays (see the file header for the columns). */
export interface DocColumns {
  /** Number of documents. */
  length: number;
  cell: Int32Array;
  lengthTokens: Int32Array;
  id: Utf8Column;
  idWhere: Utf8Column;
  selectionKey: BigUint64Array;
  packKey: BigUint64Array;
}

/** String `i` of `column`, or null where it is null. */
export function utf8At(column: Utf8Column, i: number): string | null {
  if (column.validity && (column.validity[i >> 3] & (1 << (i & 7))) === 0) return null;
  return column.bytes.toString('utf8', column.offsets[i], column.offsets[i + 1]);
}

/** UTF-8 bytes of string `i` of `column`. */
export function utf8Length(column: Utf8Column, i: number): number {
  return column.offsets[i + 1] - column.offsets[i];
}

/** A table of no documents (a group unit's). */
export function emptyDocColumns(): DocColumns {
  const empty = (): Utf8Column => ({ offsets: new Int32Array(1), bytes: Buffer.alloc(0), validity: null });
  return {
    length: 0,
    cell: new Int32Array(0),
    lengthTokens: new Int32Array(0),
    id: empty(),
    idWhere: empty(),
    selectionKey: new BigUint64Array(0),
    packKey: new BigUint64Array(0),
  };
}

const FIELDS = [
  new Field('cell', new Int32(), false),
  new Field('lengthTokens', new Int32(), false),
  new Field('id', new Utf8(), false),
  new Field('idWhere', new Utf8(), true),
  new Field('selectionKey', new Uint64(), false),
  new Field('packKey', new Uint64(), false),
];

/** Arrow data of a string column (nulls where `strings[i]` is null). */
function utf8Data(strings: readonly (string | null)[]): Data<Utf8> {
  const offsets = new Int32Array(strings.length + 1);
  let total = 0;
  strings.forEach((s, i) => {
    total += s === null ? 0 : Buffer.byteLength(s, 'utf8');
    if (total > 2 ** 31 - 1) throw new InvariantError(`document ids of one census unit pass 2 GiB at document ${i}`);
    offsets[i + 1] = total;
  });
  const bytes = Buffer.alloc(total);
  strings.forEach((s, i) => s !== null && bytes.write(s, offsets[i], 'utf8'));
  const nulls = strings.reduce((n, s) => n + (s === null ? 1 : 0), 0);
  let nullBitmap: Uint8Array | undefined;
  if (nulls > 0) {
    nullBitmap = new Uint8Array(Math.ceil(strings.length / 8));
    strings.forEach((s, i) => s !== null && (nullBitmap![i >> 3] |= 1 << (i & 7)));
  }
  return makeData({ type: new Utf8(), length: strings.length, nullCount: nulls, nullBitmap, valueOffsets: offsets, data: bytes });
}

/**
 * Encodes a unit's document table of `source` as Arrow IPC file bytes, computing each document's
 * order keys under `seed` (see the file header).
 */
export function encodeDocTable(docs: DocTable, seed: number, source: string): Uint8Array {
  const n = docs.cell.length;
  const selection = new BigUint64Array(n);
  const pack = new BigUint64Array(n);
  for (let i = 0; i < n; i++) {
    selection[i] = selectionKey(seed, source, docs.id[i]);
    pack[i] = packKey(seed, source, docs.id[i]);
  }
  const children = [
    makeData({ type: new Int32(), length: n, data: Int32Array.from(docs.cell) }),
    makeData({ type: new Int32(), length: n, data: Int32Array.from(docs.lengthTokens) }),
    utf8Data(docs.id),
    utf8Data(docs.idWhere),
    makeData({ type: new Uint64(), length: n, data: selection }),
    makeData({ type: new Uint64(), length: n, data: pack }),
  ];
  const schema = new Schema(FIELDS, new Map([['longmix', JSON.stringify({ format: DOC_TABLE_FORMAT, source, seed })]]));
  const batch = new RecordBatch(schema, makeData({ type: new Struct(FIELDS), length: n, children }));
  return tableToIPC(new Table(schema, [batch]), 'file');
}

/** The typed arrays of an Arrow string column's data (views over the file's bytes; Arrow pads buffers, the views do not). */
function utf8Of(data: Data): Utf8Column {
  const offsets = (data.valueOffsets as Int32Array).subarray(0, data.length + 1);
  const bytes = Buffer.from(data.values.buffer, data.values.byteOffset, offsets[data.length]);
  return { offsets, bytes, validity: data.nullCount > 0 ? data.nullBitmap : null };
}

/**
 * Decodes a unit's document table (Arrow IPC file bytes, as {@link encodeDocTable} writes them).
 * @param file - the file's path, for messages.
 * @param expect - the source and seed the plan orders with; the table's keys must be theirs.
 * @throws InvariantError naming `file` when it is not such a table, was made for another source
 *   or seed, or holds a cell or length out of range.
 */
export function decodeDocTable(bytes: Uint8Array, file: string, expect: { source: string; seed: number }): DocColumns {
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (error) {
    throw new InvariantError(`${file}: not a census document table: ${(error as Error).message}`, { file }, { cause: error });
  }
  const names = table.schema.fields.map((f) => `${f.name}:${String(f.type)}`).join(',');
  const want = FIELDS.map((f) => `${f.name}:${String(f.type)}`).join(',');
  if (names !== want) throw new InvariantError(`${file}: not a census document table: columns ${names}, expected ${want}`, { file });
  const meta = JSON.parse(table.schema.metadata.get('longmix') ?? 'null') as { format?: string; source?: string; seed?: number } | null;
  if (meta?.format !== DOC_TABLE_FORMAT || meta.source !== expect.source || meta.seed !== expect.seed) {
    throw new InvariantError(
      `${file}: document table of ${JSON.stringify(meta)}, expected ${JSON.stringify({ format: DOC_TABLE_FORMAT, ...expect })}; rerun the build with --restart`,
      { file },
    );
  }
  if (table.batches.length === 0) return emptyDocColumns();
  if (table.batches.length !== 1) throw new InvariantError(`${file}: document table has ${table.batches.length} record batches, expected 1`, { file });
  const [cell, lengthTokens, id, idWhere, selection, pack] = table.batches[0].data.children;
  const columns: DocColumns = {
    length: table.numRows,
    cell: (cell.values as Int32Array).subarray(0, table.numRows),
    lengthTokens: (lengthTokens.values as Int32Array).subarray(0, table.numRows),
    id: utf8Of(id),
    idWhere: utf8Of(idWhere),
    selectionKey: (selection.values as BigUint64Array).subarray(0, table.numRows),
    packKey: (pack.values as BigUint64Array).subarray(0, table.numRows),
  };
  for (let i = 0; i < columns.length; i++) {
    if (columns.cell[i] < 0 || columns.lengthTokens[i] < 1)
      throw new InvariantError(`${file}: document ${i} has cell ${columns.cell[i]} and ${columns.lengthTokens[i]} tokens`, { file, document: i });
  }
  return columns;
}
