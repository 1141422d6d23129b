/**
 * What the report learns from the shards' rows: per row its window, padding, pieces, filler and
 * split pieces; per step and rank its rows; per source the lengths of the documents it placed.
 *
 * Document lengths come from the provenance columns: a use of a document (source, `piece_doc_id`,
 * `piece_repeat`) is whole in one piece when `piece_parts` is 1, else the sum of its pieces'
 * `piece_lens` once all `piece_parts` parts are seen. So a plotted length is the document's length
 * (BOS/EOS included) as placed: a truncated document counts with its kept length, and a split
 * document with parts in rows dropped from the last global batch with the parts kept (counted as
 * `incompleteUses`). Memory: three numbers per row, plus the split documents still missing parts.
 */
import type { Manifest } from '../manifest/types.ts';
import type { RowRecord } from '../shard/schema.ts';
import { BinCounts, countBinOf, logBinOf } from './bins.ts';
import { orderedSources } from './flows.ts';

/** Per-row facts, indexed by `row_id` (global position). */
export interface RowTable {
  window: ('short' | 'long')[];
  /** Padding tokens per row. */
  padTokens: number[];
  /** Pieces per row. */
  pieces: number[];
  /** Tokens of the `longRowFiller` source per row (0 in short rows and without a filler). */
  fillerTokens: number[];
}

/** The per-document length histogram of one source's cells, documents per log bin. */
export interface SourceLengths {
  source: string;
  /** Bin `[start, end)` in tokens, the cell (bucket name) its documents belong to, documents. */
  bins: { start: number; end: number; bucket: string; documents: number }[];
  /** Uses of documents placed (each repeat counts). */
  uses: number;
  /** Split uses with some part outside the kept rows (last-batch drop), plotted at their kept length. */
  incompleteUses: number;
}

/** Everything the report takes from the shards. */
export interface RowStats {
  rows: RowTable;
  /** Documents split into several pieces, per source (uses with `piece_parts` > 1, counted once). */
  splitUses: Record<string, number>;
  lengths: SourceLengths[];
}

/** Label of lengths that fall in none of a source's buckets (only possible for truncated or incomplete uses). */
export const OUTSIDE_BUCKETS = 'outside buckets';

/** Accumulates {@link RowStats} row by row, in any row order. */
export class RowStatsCollector {
  private readonly rows: RowTable;
  private readonly split = new Map<string, { source: string; lengthTokens: number; seen: number; parts: number }>();
  private readonly lengthBins = new Map<string, Map<string, BinCounts>>();
  private readonly uses = new Map<string, { uses: number; incomplete: number; split: number }>();

  constructor(private readonly manifest: Manifest) {
    const n = manifest.rows.total;
    this.rows = { window: new Array(n).fill('short'), padTokens: new Array(n).fill(0), pieces: new Array(n).fill(0), fillerTokens: new Array(n).fill(0) };
    for (const [name] of orderedSources(manifest)) this.uses.set(name, { uses: 0, incomplete: 0, split: 0 });
  }

  /** Adds one row read from a shard. */
  add(row: RowRecord): void {
    const i = row.rowId;
    const filler = this.manifest.geometry.longRowFiller;
    this.rows.window[i] = row.window;
    this.rows.padTokens[i] = row.numPad;
    this.rows.pieces[i] = row.pieceLens.length;
    row.pieceLens.forEach((lengthTokens, k) => {
      const source = row.pieceSource[k];
      if (row.window === 'long' && source === filler) this.rows.fillerTokens[i] += lengthTokens;
      const parts = row.pieceParts[k];
      if (parts === 1) return this.addUse(source, lengthTokens, false);
      const key = `${source}\0${row.pieceDocId[k]}\0${row.pieceRepeat[k]}`;
      let entry = this.split.get(key);
      if (!entry) this.split.set(key, (entry = { source, lengthTokens: 0, seen: 0, parts }));
      entry.lengthTokens += lengthTokens;
      entry.seen++;
      if (entry.seen === parts) {
        this.split.delete(key);
        this.counts(source).split++;
        this.addUse(source, entry.lengthTokens, false);
      }
    });
  }

  private counts(source: string) {
    let c = this.uses.get(source);
    if (!c) this.uses.set(source, (c = { uses: 0, incomplete: 0, split: 0 }));
    return c;
  }

  private addUse(source: string, lengthTokens: number, incomplete: boolean): void {
    const c = this.counts(source);
    c.uses++;
    if (incomplete) c.incomplete++;
    const cell = this.manifest.sources[source]?.cells.find((x) => x.min <= lengthTokens && lengthTokens <= x.max);
    const bucket = cell?.bucket ?? OUTSIDE_BUCKETS;
    let byBucket = this.lengthBins.get(source);
    if (!byBucket) this.lengthBins.set(source, (byBucket = new Map()));
    let bins = byBucket.get(bucket);
    if (!bins) byBucket.set(bucket, (bins = new BinCounts()));
    bins.add(lengthTokens, logBinOf);
  }

  /** The statistics of every row added; split uses still missing parts are counted as incomplete. */
  finish(): RowStats {
    for (const entry of [...this.split.values()]) {
      this.counts(entry.source).split++;
      this.addUse(entry.source, entry.lengthTokens, true);
    }
    this.split.clear();
    const lengths: SourceLengths[] = [...this.uses.entries()].map(([source, c]) => {
      const buckets = [...(this.manifest.sources[source]?.cells.map((x) => x.bucket) ?? []), OUTSIDE_BUCKETS];
      const byBucket = this.lengthBins.get(source) ?? new Map<string, BinCounts>();
      const bins = buckets.flatMap((bucket) => (byBucket.get(bucket)?.sorted() ?? []).map((b) => ({ start: b.start, end: b.end, bucket, documents: b.count })));
      return { source, bins, uses: c.uses, incompleteUses: c.incomplete };
    });
    const splitUses = Object.fromEntries([...this.uses.entries()].map(([source, c]) => [source, c.split]));
    return { rows: this.rows, splitUses, lengths };
  }
}

/** Counts of rows per value bin of `values` (0 in its own bin, then log bins), split by window. */
export function countHistogram(
  values: readonly number[],
  windows: readonly ('short' | 'long')[],
): { start: number; end: number; window: string; rows: number }[] {
  const byWindow = { long: new BinCounts(), short: new BinCounts() };
  values.forEach((v, i) => byWindow[windows[i]].add(v, countBinOf));
  return (['long', 'short'] as const).flatMap((window) => byWindow[window].sorted().map((b) => ({ start: b.start, end: b.end, window, rows: b.count })));
}
