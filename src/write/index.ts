/**
 * The write stage: carries out a {@link PackPlan} in the order and shards of ./layout.ts. For
 * each row it reads the pieces' tokens back from the spill, lays out `input_ids`,
 * `position_ids` and provenance, and writes shards named `shard-00000.arrow`, … (index =
 * rank × shards per rank + k). Memory: one record batch (`rowsPerBatch` rows).
 */
import type { TokenSpill } from '../census/spill.ts';
import type { WriteDoc } from '../census/census.ts';
import type { PackPlan, PlannedRow } from '../pack/plan.ts';
import { ShardWriter, type ShardInfo } from '../shard/writer.ts';
import type { ShardPlan } from '../plan/schedule.ts';
import { safeRowsPerBatch } from '../shard/limits.ts';
import { shardSchema, type RowRecord } from '../shard/schema.ts';

/** Options of the write stage. */
export interface WriteOptions {
  outDir: string;
  rowTokens: number;
  padId: number;
  /** `full`: long rows get one continuous position range and one doc_lens entry. */
  longRowAttention: 'document' | 'full';
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
export async function layoutRow(
  rowId: number,
  row: PlannedRow,
  docs: readonly WriteDoc[],
  spill: Pick<TokenSpill, 'read'>,
  options: Pick<WriteOptions, 'rowTokens' | 'padId' | 'longRowAttention'>,
): Promise<RowRecord> {
  const { rowTokens } = options;
  const inputIds = new Int32Array(rowTokens).fill(options.padId);
  const positionIds = new Int32Array(rowTokens); // padding positions stay 0
  const record: RowRecord = {
    rowId,
    window: row.window,
    inputIds,
    positionIds,
    docLens: [],
    numPad: row.numPad,
    pieceLens: [],
    pieceSource: [],
    pieceDocId: [],
    pieceStart: [],
    pieceRepeat: [],
    piecePart: [],
    pieceParts: [],
  };
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

/**
 * Writes the rows of each planned shard: shard `i` holds plan rows `order[p]` for its global
 * positions `p` (row id = p), in position order, in record batches of `rowsPerBatch` rows.
 * @returns the shards' infos in shard order.
 */
export async function writeRows(
  plan: PackPlan,
  shardPlans: readonly ShardPlan[],
  order: readonly number[],
  docs: readonly WriteDoc[],
  spill: TokenSpill,
  options: WriteOptions,
): Promise<ShardInfo[]> {
  const schema = shardSchema(options.rowTokens, options.shardMetadata);
  const rowsPerBatch = safeRowsPerBatch(options.rowsPerBatch, options.rowTokens);
  const shards: ShardInfo[] = [];
  let written = 0;
  for (const [index, shardPlan] of shardPlans.entries()) {
    const writer = new ShardWriter(options.outDir, shardFileName(index), schema, options.rowTokens, shardPlan.rank);
    for (let start = 0; start < shardPlan.positions.length; start += rowsPerBatch) {
      const batch: RowRecord[] = [];
      for (const p of shardPlan.positions.slice(start, start + rowsPerBatch)) {
        batch.push(await layoutRow(p, plan.rows[order[p]], docs, spill, options));
        options.onRow?.(++written);
      }
      writer.write(batch);
    }
    shards.push(await writer.close());
  }
  return shards;
}
