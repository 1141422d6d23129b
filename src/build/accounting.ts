/**
 * Per-source token accounting: every token read is placed or counted as dropped by reason.
 */
import type { BadRecordReason } from '../core/doc.ts';

/** A count of documents and their tokens (BOS/EOS included). */
export interface DocTokens {
  documents: number;
  tokens: number;
}

/** What happened to one source's input. Tokens include BOS/EOS. */
export interface SourceAccount {
  window: 'short' | 'long';
  files: number;
  /** Records that could not be read, by reason (only under `onBadRecord: skip`). */
  badRecords: Partial<Record<BadRecordReason, number>>;
  /** Documents tokenized and their tokens. */
  read: DocTokens;
  /** In-range documents (passed the length filter). */
  available: DocTokens;
  budgetTokens: number | 'all';
  /** Selected and written to rows. */
  placed: DocTokens;
  /** Placed documents that were split into several pieces. */
  splitDocuments: number;
  dropped: {
    /** Outside the source's `lengthTokens` range. */
    length_filter: DocTokens;
    /** In range, not selected because the budget was met. */
    over_budget: DocTokens;
  };
}

const zero = (): DocTokens => ({ documents: 0, tokens: 0 });

/** A fresh account for a source. */
export function newAccount(window: 'short' | 'long', files: number, budgetTokens: number | 'all'): SourceAccount {
  return {
    window,
    files,
    badRecords: {},
    read: zero(),
    available: zero(),
    budgetTokens,
    placed: zero(),
    splitDocuments: 0,
    dropped: { length_filter: zero(), over_budget: zero() },
  };
}

/** Adds one document of `tokens` tokens to `count`. */
export function addDoc(count: DocTokens, tokens: number): void {
  count.documents++;
  count.tokens += tokens;
}
