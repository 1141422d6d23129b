/**
 * The manifest: the contract between a build and whoever reads it. Every count of tokens
 * includes the BOS and EOS ids around each document. Documented in docs/format.md.
 */
import type { SourceAccount } from './ledger.ts';
import type { TokenizerIdentity } from '../tokenize/tokenizer.ts';
import type { ShardInfo } from '../shard/writer.ts';

/** One input file's identity. */
export interface InputIdentity {
  source: string;
  /** Path relative to the recipe file, or `hf://datasets/<owner>/<name>@<revision>/<path>`. */
  path: string;
  sizeBytes: number;
  /** SHA-256 of the file: computed for local files; the hub's LFS oid for hub files (null when the hub gives none, and for plain URLs). */
  sha256: string | null;
  /** The hub's ETag (LFS sha256 or git blob id) for hub files, the server's ETag for plain URLs; null for local files. */
  etag: string | null;
  /**
   * Absent for a file of documents; `quality_signals` for a RedPajama-v2 quality signals file read
   * beside its documents file (it decides which documents are kept, so it is an input too).
   */
  role?: 'quality_signals';
}

/** `manifest.json`. */
export interface Manifest {
  manifestVersion: 1;
  tool: { name: string; version: string };
  recipe: {
    name: string;
    /** SHA-256 of the canonical JSON of `resolved`. */
    hash: string;
    /** The recipe with every default filled in, without `output.dir`. */
    resolved: unknown;
  };
  tokenizer: TokenizerIdentity;
  geometry: {
    rowTokens: number;
    originalWindowTokens: number;
    /** Long rows: `document` (position ids restart per piece) or `full` (one position range per row). */
    longRowAttention: 'document' | 'full';
    /** Short rows always use document masks. */
    shortRowAttention: 'document';
    longDocPolicy: 'split' | 'truncate';
    shortDocPolicy: 'split' | 'truncate';
    /** Best-fit buffer, tokens. */
    bufferTokens: number;
    /** Short source that filled long rows, or null. */
    longRowFiller: string | null;
  };
  inputs: InputIdentity[];
  /** Per source, by name. */
  sources: Record<string, SourceAccount>;
  rows: {
    total: number;
    short: number;
    long: number;
    /** Document tokens in rows (excluding padding). */
    tokens: number;
    padTokens: number;
    pieces: number;
    /**
     * Of the pieces, those that are documents cut by a `truncate` policy (they end without EOS).
     * Absent in older manifests: read as 0.
     */
    truncatedPieces?: number;
    /** Rows left out because they did not fill the last global batch. */
    dropped: { rows: number; tokens: number; padTokens: number; policy: 'drop' | 'fill' };
  };
  /**
   * The global order for data-parallel training. Global position p (= row_id) is in step
   * floor(p / globalBatchRows); with world size W it belongs to rank floor((p mod G) / (G / W)).
   * `positions[p] = [shard index, row index in that shard]`, so a loader with any world size
   * dividing G finds its rows from the manifest alone.
   */
  schedule: {
    worldSize: number;
    globalBatchRows: number;
    steps: number;
    longRowsPerStep: number[];
    positions: [number, number][];
  };
  totals: {
    tokensRead: number;
    /** Tokens in rows (repeats included). */
    tokensPlaced: number;
    /** Of the placed tokens, those from second and later uses of a document. */
    tokensRepeated: number;
    tokensDropped: { too_short: number; too_long: number; outside_buckets: number; over_budget: number; truncated: number; last_batch: number };
    padTokens: number;
  };
  shards: ShardInfo[];
  /**
   * Exports `build-mix --format` wrote beside the shards, as directories relative to the output
   * directory (`hf`, `megatron`); absent when there are none. The next build into the directory
   * removes them, and nothing else it does not list.
   */
  exports?: { hf?: string; megatron?: string };
  /** The build's HTML report, relative to the output directory (`report.html`), when one was written. */
  report?: string;
}
