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
import { derivedKey } from '../core/rng.ts';
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
export interface CellSelection {
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
  /** In selection order. */
  selected: Selected[];
}

function ordered(candidates: readonly Candidate[], seed: number, source: string, repeat: number): Candidate[] {
  const labels = repeat === 0 ? [] : [`repeat:${repeat}`];
  return candidates
    .map((c) => ({ c, key: derivedKey(seed, source, c.id, ...labels) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.c.id < b.c.id ? -1 : a.c.id > b.c.id ? 1 : 0))
    .map((x) => x.c);
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
 * Selects documents of one cell.
 * @param seed - the recipe seed.
 * @param truncateAtTokens - the truncation limit of the cell's window class under a `truncate`
 *   policy ({@link truncationLimitTokens}); budgets then count {@link placeableTokens}.
 * @throws BudgetError (see {@link checkCellBudget}).
 */
export function planCellSelection(cell: CellSpec, candidates: readonly Candidate[], seed: number, truncateAtTokens?: number): CellSelection {
  const availableTokens = candidates.reduce((sum, c) => sum + c.lengthTokens, 0);
  const placeable = candidates.reduce((sum, c) => sum + placeableTokens(c.lengthTokens, truncateAtTokens), 0);
  checkCellBudget(cell, placeable, candidates.length, truncateAtTokens);
  const limit = cell.plannedTokens === 'all' ? placeable : cell.plannedTokens;
  const selected: Selected[] = [];
  let achievedTokens = 0;
  let placedTokens = 0;
  let repeatedTokens = 0;
  let firstUseTokens = 0;
  const maxUses = Math.ceil(cell.maxRepetition);
  for (let repeat = 0; repeat < maxUses && placedTokens < limit; repeat++) {
    for (const c of ordered(candidates, seed, cell.source, repeat)) {
      if (placedTokens >= limit) break;
      selected.push({ index: c.index, repeat });
      achievedTokens += c.lengthTokens;
      placedTokens += placeableTokens(c.lengthTokens, truncateAtTokens);
      if (repeat > 0) repeatedTokens += c.lengthTokens;
      else firstUseTokens += c.lengthTokens;
    }
  }
  const firstUses = selected.filter((s) => s.repeat === 0).length;
  return {
    plannedTokens: cell.plannedTokens,
    availableTokens,
    placeableTokens: placeable,
    availableDocuments: candidates.length,
    achievedTokens,
    achievedDocuments: selected.length,
    repeatedTokens,
    overBudgetTokens: availableTokens - firstUseTokens,
    overBudgetDocuments: candidates.length - firstUses,
    selected,
  };
}
