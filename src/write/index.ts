/**
 * The write stage: carries out a {@link PackPlan}. For each planned row it reads the pieces'
 * tokens back from the spill, lays out `input_ids`, `position_ids` and provenance, and writes
 * shards of `rowsPerShard` rows named `shard-00000.arrow`, `shard-00001.arrow`, …
 * Memory: one record batch (`rowsPerBatch` rows).
 */
import type { TokenSpill } from '../build/spill.ts';
import type { PackPlan, PlannedRow } from '../pack/plan.ts';
import { ShardWriter, type ShardInfo } from './arrowShard.ts';
import { shardSchema, type RowRecord } from './schema.ts';

/** A selected document as the writer needs it. */
export interface WriteDoc {
  source: string;
  id: string;
  /** Offset of the document's first token (BOS) in the spill, tokens. */
  spillOffsetTokens: number;
}

/** Options of the write stage. */
export interface WriteOptions {
  outDir: string;
  rowTokens: number;
  padId: number;
  /** `full`: long rows get one continuous position range and one doc_lens entry. */
  longRowAttention: 'document' | 'full';
  rowsPerShard: number;
  rowsPerBatch: number;
  /** JSON stored in every shard's schema metadata. */
  shardMetadata: Record<string, unknown>;
  /** Called after each written row with the number of rows written so far. */
  onRow?: (rowsWritten: number) => void;
}

/** Zero-padded shard file name for shard `index`. */
export function shardFileName(index: number): string {
  return `shard-${String(index).padStart(5, '0')}.arrow`;
}

/**
 * Lays out one row: pieces' tokens in order, then padding (`padId`, position 0 each).
 * Document attention: positions `0..len-1` per piece, one `doc_lens` entry per piece.
 * Full attention (long rows only): positions `0..used-1` over the row, one `doc_lens` entry.
 */
export async function layoutRow(rowId: number, row: PlannedRow, docs: readonly WriteDoc[], spill: Pick<TokenSpill, 'read'>, options: Pick<WriteOptions, 'rowTokens' | 'padId' | 'longRowAttention'>): Promise<RowRecord> {
  const { rowTokens } = options;
  const inputIds = new Int32Array(rowTokens).fill(options.padId);
  const positionIds = new Int32Array(rowTokens); // padding positions stay 0
  const record: RowRecord = { rowId, window: row.window, inputIds, positionIds, docLens: [], numPad: row.numPad, pieceLens: [], pieceSource: [], pieceDocId: [], pieceStart: [], pieceRepeat: [], piecePart: [], pieceParts: [] };
  const full = row.window === 'long' && options.longRowAttention === 'full';
  let at = 0;
  for (const piece of row.pieces) {
    const doc = docs[piece.doc];
    await spill.read(doc.spillOffsetTokens + piece.startToken, inputIds.subarray(at, at + piece.lengthTokens));
    for (let i = 0; i < piece.lengthTokens; i++) positionIds[at + i] = full ? at + i : i;
    at += piece.lengthTokens;
    record.pieceLens.push(piece.lengthTokens);
    record.pieceSource.push(doc.source);
    record.pieceDocId.push(doc.id);
    record.pieceStart.push(piece.startToken);
    record.pieceRepeat.push(piece.repeat);
    record.piecePart.push(piece.part);
    record.pieceParts.push(piece.parts);
  }
  record.docLens = full ? [at] : record.pieceLens.slice();
  return record;
}

/** Writes every planned row, in plan order, into shards; returns the shards' infos in order. */
export async function writeRows(plan: PackPlan, docs: readonly WriteDoc[], spill: TokenSpill, options: WriteOptions): Promise<ShardInfo[]> {
  const schema = shardSchema(options.rowTokens, options.shardMetadata);
  const shards: ShardInfo[] = [];
  for (let first = 0; first < plan.rows.length; first += options.rowsPerShard) {
    const writer = new ShardWriter(options.outDir, shardFileName(shards.length), schema, options.rowTokens, first);
    const last = Math.min(plan.rows.length, first + options.rowsPerShard);
    for (let start = first; start < last; start += options.rowsPerBatch) {
      const batch: RowRecord[] = [];
      for (let rowId = start; rowId < Math.min(last, start + options.rowsPerBatch); rowId++) {
        batch.push(await layoutRow(rowId, plan.rows[rowId], docs, spill, options));
        options.onRow?.(rowId + 1);
      }
      writer.write(batch);
    }
    shards.push(await writer.close());
  }
  return shards;
}
