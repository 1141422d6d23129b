/**
 * Per-source token budgets: a pure, synchronous plan over document lengths.
 *
 * Algorithm: a source's in-range documents are ordered by a seed-derived key
 * (`derivedKey(seed, source, docId)`, ties by id), and taken in that order while the running
 * total is below the budget. So the selected tokens land in `[budget, budget + one document)`:
 * at most one document over, never under. `"all"` takes every in-range document. A budget above
 * what the source holds is a {@link BudgetError}: no repetition is ever added silently.
 */
import { BudgetError } from '../core/errors.ts';
import { derivedKey } from '../core/rng.ts';

/** A document that passed the length filter. */
export interface Candidate {
  /** Index in the caller's candidate table (returned in {@link SourceSelection.selected}). */
  index: number;
  id: string;
  /** Tokens, BOS and EOS included. */
  lengthTokens: number;
}

/** What selection did for one source; every number is tokens unless it says documents. */
export interface SourceSelection {
  source: string;
  budgetTokens: number | 'all';
  availableTokens: number;
  availableDocuments: number;
  selectedTokens: number;
  selectedDocuments: number;
  /** In-range documents left out because the budget was already met. */
  overBudgetTokens: number;
  overBudgetDocuments: number;
  /** Candidate indexes selected, in selection (seed) order. */
  selected: number[];
}

/**
 * Selects documents of one source up to its budget.
 * @param seed - the recipe seed.
 * @throws BudgetError when `budgetTokens` exceeds the tokens available, naming source, budget and availability.
 */
export function planSourceSelection(source: string, candidates: readonly Candidate[], budgetTokens: number | 'all', seed: number): SourceSelection {
  const availableTokens = candidates.reduce((sum, c) => sum + c.lengthTokens, 0);
  if (budgetTokens !== 'all' && budgetTokens > availableTokens) {
    throw new BudgetError(
      `Source "${source}": budget ${budgetTokens} tokens exceeds the ${availableTokens} tokens available in ${candidates.length} in-range documents; lower budgetTokens to ${availableTokens} (or "all"), widen lengthTokens, or add files`,
      { source, budgetTokens, availableTokens, availableDocuments: candidates.length },
    );
  }
  const ordered = candidates
    .map((c) => ({ c, key: derivedKey(seed, source, c.id) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.c.id < b.c.id ? -1 : a.c.id > b.c.id ? 1 : 0));
  const limit = budgetTokens === 'all' ? Infinity : budgetTokens;
  const selected: number[] = [];
  let selectedTokens = 0;
  for (const { c } of ordered) {
    if (selectedTokens >= limit) break;
    selected.push(c.index);
    selectedTokens += c.lengthTokens;
  }
  return {
    source,
    budgetTokens,
    availableTokens,
    availableDocuments: candidates.length,
    selectedTokens,
    selectedDocuments: selected.length,
    overBudgetTokens: availableTokens - selectedTokens,
    overBudgetDocuments: candidates.length - selected.length,
    selected,
  };
}
