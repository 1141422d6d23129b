/**
 * Token accounting: every token read is placed in a row or counted as dropped by reason, per
 * source and per cell (source × length bucket). All token counts include BOS/EOS.
 *
 * Per source: `read = Σ cells.available + dropped.too_short + dropped.too_long + dropped.outside_buckets`;
 * per cell: `available = (achieved − repeated) + dropped.over_budget` and
 * `placed = achieved − dropped.truncated − dropped.last_batch`. So
 * `read = placed − repeated + truncated + last_batch + over_budget + too_short + too_long + outside_buckets`,
 * which the plan asserts before anything is written and verify checks again.
 */
import type { BadRecordReason, SkippedReason } from '../core/doc.ts';
import type { CellSpec } from '../config/cells.ts';

/** A count of documents and their tokens (BOS/EOS included). */
export interface DocTokens {
  documents: number;
  tokens: number;
}

/**
 * Why a tokenized document is in no cell of its source: shorter than `lengthTokens.min`
 * (`too_short`), longer than `lengthTokens.max` (`too_long`), or in that range but in no bucket
 * (`outside_buckets`).
 */
export type LengthDropReason = 'too_short' | 'too_long' | 'outside_buckets';

/** The length-drop reasons, in the order manifests and summaries list them. */
export const LENGTH_DROP_REASONS: readonly LengthDropReason[] = ['too_short', 'too_long', 'outside_buckets'];

/** What happened in one cell (source × length bucket). */
export interface CellAccount {
  bucket: string;
  /** Closed length range, tokens. */
  min: number;
  max: number;
  plannedTokens: number | 'all';
  /** Tokens added to the plan by `lastBatchPolicy: fill` to complete the last global batch (0 otherwise). */
  raisedTokens: number;
  /** Documents read whose length falls in the bucket. */
  available: DocTokens;
  /** Selected uses (repeats included), before truncation; within one document of the plan. */
  achieved: DocTokens;
  /** Of the achieved tokens, those of second and later uses of a document. */
  repeatedTokens: number;
  /** Tokens written into rows: achieved minus truncated. */
  placedTokens: number;
  dropped: {
    /** In the bucket but not selected: the plan was met without them. */
    over_budget: DocTokens;
    /** Tails cut by the `truncate` policies (documents counted once per truncated use). */
    truncated: DocTokens;
    /** In rows that did not fill the last global batch (`lastBatchPolicy: drop`); `documents` counts pieces. */
    last_batch: DocTokens;
  };
  /** Split into several pieces by the `split` policies. */
  splitDocuments: number;
  /** Padding of the rows whose longest piece comes from this cell. */
  padTokens: number;
  /** Tokens of this cell placed into long rows as filler. */
  fillerTokens: number;
}

/**
 * An input file left out whole under `onBadFile: skip` because it broke part-way (truncated or
 * corrupt compression, undecodable Parquet): none of its documents is used or counted as read.
 */
export interface CorruptFile {
  /** The file, as inputs name it. */
  path: string;
  /** Offset in the stored (compressed) file where decoding broke, bytes. */
  byteOffset: number;
  /** Records the reader had yielded before the break (not used: they may be damaged too). */
  recordsRead: number;
  /** The reader's message. */
  error: string;
}

/**
 * How much of a source's dataset a build used (early stop): its units (input files, or StarCoder
 * repository partitions) in the dataset, those the build used (a prefix of the seeded read order,
 * the same whatever was read past it), and why it stopped there: `budgets_met` (every cell holds
 * `oversample` × its plan), `exhausted` (the dataset ends first), `all_read` (a budget of "all").
 */
export interface SourceReading {
  units: number;
  used: number;
  stop: 'budgets_met' | 'all_read' | 'exhausted';
  oversample: number;
}

/** What happened to one source's input. */
export interface SourceAccount {
  window: 'short' | 'long';
  files: number;
  /** Records that could not be read, by reason (only under `onBadRecord: skip`). */
  badRecords: Partial<Record<BadRecordReason, number>>;
  /** Documents left out by RedPajama-v2 quality filters before tokenization (never tokenized: characters, not tokens). */
  qualityFiltered: { documents: number; chars: number };
  /** Input that holds no record, by reason: blank JSONL lines, input files without any record. Never tokenized, never an error. */
  skipped: Record<SkippedReason, number>;
  /** Files left out whole under `onBadFile: skip`, in input order. */
  corruptFiles: CorruptFile[];
  /**
   * Documents never tokenized because their UTF-8 length proves they cannot reach the source's
   * smallest bucket (the tokenizer's proven bound, src/tokenize/tokenBound.ts: LLaMA-3 `bytes + 2`
   * tokens): documents and UTF-8 bytes; their tokens are not counted anywhere (not in `read`).
   */
  prefiltered: { documents: number; bytes: number };
  /** How much of the dataset the build used (early stop). */
  reading: SourceReading;
  /** Documents tokenized and their tokens. */
  read: DocTokens;
  /** Tokens in rows (uses of documents, repeats included). */
  placed: DocTokens;
  /** Tokenized documents in no cell, by {@link LengthDropReason}. */
  dropped: Record<LengthDropReason, DocTokens>;
  /** Cells in bucket order. */
  cells: CellAccount[];
}

const zero = (): DocTokens => ({ documents: 0, tokens: 0 });

/** A fresh account for a source and its cells. */
export function newAccount(window: 'short' | 'long', files: number, cells: readonly CellSpec[]): SourceAccount {
  return {
    window,
    files,
    badRecords: {},
    qualityFiltered: { documents: 0, chars: 0 },
    skipped: { blank_line: 0, empty_file: 0 },
    corruptFiles: [],
    prefiltered: { documents: 0, bytes: 0 },
    reading: { units: 0, used: 0, stop: 'all_read', oversample: 1 },
    read: zero(),
    placed: zero(),
    dropped: { too_short: zero(), too_long: zero(), outside_buckets: zero() },
    cells: cells.map((c) => ({
      bucket: c.bucket,
      min: c.min,
      max: c.max,
      plannedTokens: c.plannedTokens,
      raisedTokens: 0,
      available: zero(),
      achieved: zero(),
      repeatedTokens: 0,
      placedTokens: 0,
      dropped: { over_budget: zero(), truncated: zero(), last_batch: zero() },
      splitDocuments: 0,
      padTokens: 0,
      fillerTokens: 0,
    })),
  };
}

/** Adds one document of `tokens` tokens to `count`. */
export function addDoc(count: DocTokens, tokens: number): void {
  count.documents++;
  count.tokens += tokens;
}

/** Source-level sums of the cells, tokens. */
export function cellSums(account: SourceAccount): { repeated: number; truncated: number; overBudget: number; lastBatch: number } {
  return account.cells.reduce(
    (s, c) => ({
      repeated: s.repeated + c.repeatedTokens,
      truncated: s.truncated + c.dropped.truncated.tokens,
      overBudget: s.overBudget + c.dropped.over_budget.tokens,
      lastBatch: s.lastBatch + c.dropped.last_batch.tokens,
    }),
    { repeated: 0, truncated: 0, overBudget: 0, lastBatch: 0 },
  );
}

/** Tokens and documents of a source that are in no cell, all length-drop reasons together. */
export function lengthDropped(account: Pick<SourceAccount, 'dropped'>): DocTokens {
  return LENGTH_DROP_REASONS.reduce(
    (s, r) => ({ documents: s.documents + account.dropped[r].documents, tokens: s.tokens + account.dropped[r].tokens }),
    zero(),
  );
}
