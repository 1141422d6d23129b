/**
 * Token budgets per cell (source × length bucket): a pure, synchronous plan over document lengths.
 *
 * Algorithm: a cell's documents are ordered by a seed-derived key
 * (`derivedKey(seed, source, docId)`, ties by id) and taken in that order while the running
 * total is below the planned tokens, so the achieved tokens land in `[plan, plan + one document)`:
 * at most one document over, never under. `"all"` takes every document once.
 *
 * Repetition only where the recipe allows it (`maxRepetition > 1`): when the plan exceeds what
 * the cell holds, every document is taken once, then again in a new seeded order
 * (`derivedKey(seed, source, docId, "repeat:<k>")`) until the plan is met; no document is taken
 * more than `ceil(maxRepetition)` times, the plan must be at most `maxRepetition × available`, and
 * the achieved tokens pass the plan by less than one document, as without repetition.
 * A plan above that is a {@link BudgetError} that names the cell, the shortfall and the fixes.
 *
 * Budgets count the tokens that will be placed: under a `truncate` policy a document longer than
 * the limit of its window class (`rowTokens` for long sources, `originalWindowTokens` for short
 * ones) counts `min(lengthTokens, limit)` ({@link placeableTokens}), both in what a cell holds and
 * in the running total, so that truncated tails never stand in for documents left over budget.
 * The achieved, repeated and over-budget counts stay whole-document tokens (the ledger's).
 */
import { BudgetError } from '../core/errors.ts';
import { sortByKey } from '../core/keySort.ts';
import { selectionKey } from '../core/orderKeys.ts';
import type { CellSpec } from '../config/cells.ts';
import type { Recipe } from '../config/schema.ts';

/** A document that fell into a cell. */
export interface Candidate {
  /** Index in the caller's document table. */
  index: number;
  id: string;
  /** Tokens, BOS and EOS included. */
  lengthTokens: number;
}

/** A selected use of a document; `repeat` is 0 for the first use. */
export interface Selected {
  index: number;
  repeat: number;
}

/**
 * The length at which documents of a window class are truncated (`rowTokens` for long, the
 * original window for short) when its policy is `truncate`; undefined under `split`.
 */
export function truncationLimitTokens(recipe: Pick<Recipe, 'packing' | 'rowTokens' | 'originalWindowTokens'>, window: 'short' | 'long'): number | undefined {
  if (window === 'long') return recipe.packing.longDocPolicy === 'truncate' ? recipe.rowTokens : undefined;
  return recipe.packing.shortDocPolicy === 'truncate' ? recipe.originalWindowTokens : undefined;
}

/** Tokens of a document of `lengthTokens` that rows will hold: `min(lengthTokens, truncateAtTokens)`, or all without a limit. */
export function placeableTokens(lengthTokens: number, truncateAtTokens?: number): number {
  return truncateAtTokens === undefined ? lengthTokens : Math.min(lengthTokens, truncateAtTokens);
}

/** What selection did for one cell. Tokens include BOS/EOS. */
export interface SelectionCounts {
  plannedTokens: number | 'all';
  availableTokens: number;
  /** Of the available tokens, those rows can hold (after truncation); what budgets are met with. */
  placeableTokens: number;
  availableDocuments: number;
  /** Selected tokens, repeats included. */
  achievedTokens: number;
  achievedDocuments: number;
  /** Of the achieved, tokens from second and later uses. */
  repeatedTokens: number;
  /** In-cell documents never selected (the plan was met without them). */
  overBudgetTokens: number;
  overBudgetDocuments: number;
}

/** What selection did for one cell, with the selected uses in selection order. */
export interface CellSelection extends SelectionCounts {
  selected: Selected[];
}

/** Candidates of `candidates` in the seeded order of use `repeat` (file header), as positions in `candidates`. */
function candidateOrder(candidates: readonly Candidate[], seed: number, source: string, repeat: number): Int32Array {
  const keys = BigUint64Array.from(candidates, (c) => selectionKey(seed, source, c.id, repeat));
  return sortByKey(keys, (a, b) => compareIds(candidates[a].id, candidates[b].id));
}

/** Orders document ids as the selection's tie-break does (UTF-16 code units, JavaScript's `<`). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Formats a cell as `source "web" bucket "2-512"`. */
export function cellName(cell: Pick<CellSpec, 'source' | 'bucket'>): string {
  return `source "${cell.source}" bucket "${cell.bucket}"`;
}

/**
 * Checks a cell's plan against what it holds.
 * @param availableTokens - tokens rows can hold of the cell's documents ({@link placeableTokens} each).
 * @param truncateAtTokens - the truncation limit, when the cell's class truncates (for the message).
 * @throws BudgetError naming the cell, the planned and available tokens, the shortfall and the fixes.
 */
export function checkCellBudget(cell: CellSpec, availableTokens: number, availableDocuments: number, truncateAtTokens?: number): void {
  if (cell.plannedTokens === 'all') return;
  const reachable = Math.floor(availableTokens * cell.maxRepetition);
  if (cell.plannedTokens <= reachable) return;
  const repetition = Math.ceil((cell.plannedTokens / Math.max(1, availableTokens)) * 100) / 100;
  const fixRepeat = availableTokens > 0 ? ` or set maxRepetition for "${cell.source}" to ${repetition}` : '';
  const truncated = truncateAtTokens === undefined ? '' : ` (counted as placed: documents truncated at ${truncateAtTokens} tokens)`;
  throw new BudgetError(
    `Budget for ${cellName(cell)} (${cell.min}..${cell.max} tokens): planned ${cell.plannedTokens} tokens, but only ${availableTokens} tokens in ${availableDocuments} documents are available${truncated}` +
      `${cell.maxRepetition > 1 ? ` (${reachable} with maxRepetition ${cell.maxRepetition})` : ''}; shortfall ${cell.plannedTokens - reachable} tokens. ` +
      `Lower the budget to ${reachable}${fixRepeat}.`,
    {
      source: cell.source,
      bucket: cell.bucket,
      plannedTokens: cell.plannedTokens,
      availableTokens,
      availableDocuments,
      shortfallTokens: cell.plannedTokens - reachable,
    },
  );
}

/**
 * The candidates of one cell, columnar: what {@link selectCell} reads. Positions `0..n-1` index
 * both the lengths and the orders.
 */
export interface CellCandidates {
  /** Tokens of each candidate, BOS and EOS included. */
  lengthTokens: Int32Array;
  /** The candidates' positions in the seeded order of use `repeat` (0: first use; file header). */
  order(repeat: number): Int32Array;
}

/** What selection did for one cell, with the selected uses as columns: use j is candidate `position[j]`, its `repeat[j]`-th use. */
export interface CellPicks extends SelectionCounts {
  position: Int32Array;
  repeat: Int32Array;
}

/** Progress callbacks of selection and packing come every this many uses (or rows), not more often. */
export const PROGRESS_EVERY = 4096;

/**
 * Selects documents of one cell (the algorithm of the file header), over columns: a few bytes per
 * candidate, whatever the cell's size.
 * @param truncateAtTokens - the truncation limit of the cell's window class under a `truncate`
 *   policy ({@link truncationLimitTokens}); budgets then count {@link placeableTokens}.
 * @param onSelected - called with the uses selected so far, every {@link PROGRESS_EVERY} uses
 *   and once at the end with the final count (progress; it must not throw).
 * @throws BudgetError (see {@link checkCellBudget}).
 */
export function selectCell(cell: CellSpec, candidates: CellCandidates, truncateAtTokens?: number, onSelected?: (uses: number) => void): CellPicks {
  const lengths = candidates.lengthTokens;
  let availableTokens = 0;
  let placeable = 0;
  for (let i = 0; i < lengths.length; i++) {
    availableTokens += lengths[i];
    placeable += placeableTokens(lengths[i], truncateAtTokens);
  }
  checkCellBudget(cell, placeable, lengths.length, truncateAtTokens);
  const limit = cell.plannedTokens === 'all' ? placeable : cell.plannedTokens;
  const maxUses = Math.ceil(cell.maxRepetition);
  // Walks the seeded orders until the plan is met, handing each use to `take`.
  const walk = (take: (position: number, repeat: number) => void) => {
    let placedTokens = 0;
    for (let repeat = 0; repeat < maxUses && placedTokens < limit; repeat++) {
      const order = candidates.order(repeat);
      for (let k = 0; k < order.length && placedTokens < limit; k++) {
        take(order[k], repeat);
        placedTokens += placeableTokens(lengths[order[k]], truncateAtTokens);
      }
    }
  };
  let count = 0;
  walk(() => count++);
  const position = new Int32Array(count);
  const repeat = new Int32Array(count);
  let achievedTokens = 0;
  let repeatedTokens = 0;
  let firstUseTokens = 0;
  let firstUses = 0;
  let j = 0;
  walk((p, r) => {
    position[j] = p;
    repeat[j++] = r;
    if (j % PROGRESS_EVERY === 0) onSelected?.(j);
    achievedTokens += lengths[p];
    if (r > 0) repeatedTokens += lengths[p];
    else {
      firstUseTokens += lengths[p];
      firstUses++;
    }
  });
  onSelected?.(count);
  return {
    plannedTokens: cell.plannedTokens,
    availableTokens,
    placeableTokens: placeable,
    availableDocuments: lengths.length,
    achievedTokens,
    achievedDocuments: count,
    repeatedTokens,
    overBudgetTokens: availableTokens - firstUseTokens,
    overBudgetDocuments: lengths.length - firstUses,
    position,
    repeat,
  };
}

/**
 * Selects documents of one cell given as objects ({@link selectCell} over their columns).
 * @param seed - the recipe seed.
 * @param truncateAtTokens - see {@link selectCell}.
 * @throws BudgetError (see {@link checkCellBudget}).
 */
export function planCellSelection(cell: CellSpec, candidates: readonly Candidate[], seed: number, truncateAtTokens?: number): CellSelection {
  const orders = new Map<number, Int32Array>();
  const picks = selectCell(
    cell,
    {
      lengthTokens: Int32Array.from(candidates, (c) => c.lengthTokens),
      order: (repeat) => orders.get(repeat) ?? orders.set(repeat, candidateOrder(candidates, seed, cell.source, repeat)).get(repeat)!,
    },
    truncateAtTokens,
  );
  const { position, repeat, ...counts } = picks;
  return { ...counts, selected: Array.from(position, (p, j) => ({ index: candidates[p].index, repeat: repeat[j] })) };
}
