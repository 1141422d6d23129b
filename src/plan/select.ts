/**
 * Selection, fill and packing over the census of a build: pure functions of the in-cell
 * documents, their cells and the recipe (no I/O, no clock). They fill in the ledger's selection
 * and packing counts.
 */
import type { LoadedRecipe } from '../config/load.ts';
import type { CellSpec } from '../config/cells.ts';
import type { CellAccount, SourceAccount } from '../manifest/ledger.ts';
import { planPacking, type PackDoc, type PackPlan } from '../pack/plan.ts';
import { planCellSelection, truncationLimitTokens, type Candidate, type CellSelection } from '../select/plan.ts';
import { BudgetError, PipelineError } from '../core/errors.ts';
import { fillToleranceTokens, maxExtraTokens, MAX_FILL_EVALUATIONS, raisesFor, searchFill } from './fill.ts';
import type { Schedule } from './schedule.ts';

/** A document in a cell, as the write stage finds its tokens: census unit and token offset there. */
export interface PlanDoc {
  source: string;
  /** Final document id (unique within the source). */
  id: string;
  /** Index of the census unit whose token file holds the document. */
  unit: number;
  /** Offset of the document's first token (BOS) in that unit's token file, tokens. */
  offsetTokens: number;
}

/** The census as the planner sees it. */
export interface Census {
  /** Every cell of the recipe, in recipe then bucket order; `candidates[i]` belong to `cells[i]`. */
  cells: CellSpec[];
  candidates: Candidate[][];
  /** In-cell documents in unit order (a candidate's `index` points here). */
  docs: PlanDoc[];
  accounts: Record<string, SourceAccount>;
}

/** Most rows a build may have: row ids are Int32 in the shards (docs/format.md §2). */
export const MAX_ROWS = 2 ** 31 - 1;

/**
 * Tokens and rows a census's plans imply, before anything is selected: per cell its numeric plan,
 * or what it holds for "all" (lastBatchPolicy fill may add at most one global batch), and at least
 * one row per `rowTokens` of them.
 */
export function impliedSize(loaded: LoadedRecipe, census: Census): { tokens: number; rows: number } {
  let tokens = 0;
  census.cells.forEach((cell, i) => {
    const available = census.candidates[i].reduce((s, c) => s + c.lengthTokens, 0);
    tokens += cell.plannedTokens === 'all' ? available : cell.plannedTokens;
  });
  return { tokens, rows: Math.ceil(tokens / loaded.recipe.rowTokens) + loaded.recipe.output.globalBatchRows };
}

/**
 * Refuses a plan that cannot be built before it is selected: more rows than row ids allow, or than
 * `maxRows` (the caller's bound, e.g. from free disk space), with the numbers and the fix. A typo
 * in a budget (and a large maxRepetition) would otherwise grow memory without bound.
 * @throws BudgetError naming the implied tokens and rows, the bound and the recipe keys to check,
 *   when the rows pass what row ids allow (a typo); PipelineError with the same numbers when they
 *   pass `maxRows` only (not enough disk).
 */
export function assertPlanSize(loaded: LoadedRecipe, census: Census, maxRows = MAX_ROWS, why = 'row ids are 32-bit'): void {
  const { tokens, rows } = impliedSize(loaded, census);
  const limit = Math.min(maxRows, MAX_ROWS);
  if (rows <= limit) return;
  const cells = census.cells
    .map((c, i) => ({ c, tokens: c.plannedTokens === 'all' ? census.candidates[i].reduce((s, x) => s + x.lengthTokens, 0) : c.plannedTokens }))
    .sort((a, b) => b.tokens - a.tokens)
    .slice(0, 3)
    .map(
      ({ c, tokens: t }) => `${c.source} ${c.bucket}: ${t.toLocaleString('en-US')} tokens${c.maxRepetition > 1 ? ` (maxRepetition ${c.maxRepetition})` : ''}`,
    );
  if (rows <= MAX_ROWS) {
    const all = census.cells.every((c) => c.plannedTokens === 'all');
    throw new PipelineError(
      `Not enough disk space for this build: it needs about ${rows.toLocaleString('en-US')} rows (${tokens.toLocaleString('en-US')} tokens in rows of ${loaded.recipe.rowTokens.toLocaleString('en-US')}, and one global batch that lastBatchPolicy fill may add), room for ${limit.toLocaleString('en-US')} (${why}); the largest cells: ${cells.join('; ')}. Free space there, give --work on another file system, or build less (${all ? 'maxFiles, or numeric budgetTokens' : 'lower budgetTokens or scale, or maxFiles'}).`,
      { tokens, rows, limit },
    );
  }
  throw new BudgetError(
    `The budgets imply ${tokens.toLocaleString('en-US')} tokens, about ${rows.toLocaleString('en-US')} rows of ${loaded.recipe.rowTokens.toLocaleString('en-US')} tokens, over the limit of ${limit.toLocaleString('en-US')} rows (${why}); the largest cells: ${cells.join('; ')}. Check budgetTokens, scale and maxRepetition for a typo`,
    { tokens, rows, limit },
  );
}

/** Default best-fit buffer: 64 rows' worth of tokens. */
export function bufferTokensOf(loaded: LoadedRecipe): number {
  return loaded.recipe.packing.bufferTokens ?? 64 * loaded.recipe.rowTokens;
}

/** The account of cell `i` of the census (cells and accounts come from the same recipe sources). */
function cellAccount(census: Census, i: number): CellAccount {
  const cell = census.cells[i];
  return census.accounts[cell.source].cells.find((c) => c.bucket === cell.bucket)!;
}

/** Selection and packing for given per-cell plan raises (tokens), without touching the accounts. */
function selectAndPack(loaded: LoadedRecipe, census: Census, raise: readonly number[]): { plan: PackPlan; selections: CellSelection[] } {
  const { recipe } = loaded;
  const packDocs: PackDoc[] = [];
  const selections = census.cells.map((cell, i) => {
    const planned = cell.plannedTokens === 'all' || raise[i] === 0 ? cell.plannedTokens : cell.plannedTokens + raise[i];
    const selection = planCellSelection({ ...cell, plannedTokens: planned }, census.candidates[i], recipe.seed, truncationLimitTokens(recipe, cell.window));
    const byIndex = new Map(census.candidates[i].map((c) => [c.index, c]));
    for (const { index, repeat } of selection.selected) {
      packDocs.push({
        doc: index,
        source: cell.source,
        id: census.docs[index].id,
        repeat,
        cell: i,
        lengthTokens: byIndex.get(index)!.lengthTokens,
        window: cell.window,
      });
    }
    return selection;
  });
  const plan = planPacking(packDocs, {
    rowTokens: recipe.rowTokens,
    originalWindowTokens: recipe.originalWindowTokens,
    seed: recipe.seed,
    bufferTokens: bufferTokensOf(loaded),
    longDocPolicy: recipe.packing.longDocPolicy,
    shortDocPolicy: recipe.packing.shortDocPolicy,
    fillerSource: recipe.packing.longRowFiller,
    allowCopiesInRow: recipe.packing.allowCopiesInRow ?? false,
    cellCount: census.cells.length,
  });
  return { plan, selections };
}

/**
 * Selects per cell and plans the packing; fills the accounts' selection and packing counts.
 *
 * `lastBatchPolicy: fill`: the numeric budgets are raised by the smallest amount, shared in
 * proportion to each cell's plan and capped by what the cell holds, whose packing fills whole
 * global batches ({@link searchFill}); each cell reports its raise as `raisedTokens`. When no such
 * raise exists, nothing is raised and the rows left over are dropped and counted, as under `drop`.
 * @throws BudgetError naming the first cell whose plan cannot be met.
 */
export function planBuild(loaded: LoadedRecipe, census: Census): PackPlan {
  const { recipe } = loaded;
  const zero = census.cells.map(() => 0);
  let { plan, selections } = selectAndPack(loaded, census, zero);
  let raise = zero;
  if (recipe.output.lastBatchPolicy === 'fill' && plan.rows.length % recipe.output.globalBatchRows !== 0) {
    const cells = census.cells.map((cell, i) => {
      if (cell.plannedTokens === 'all') return { planned: null, capRaise: 0 };
      return { planned: cell.plannedTokens, capRaise: Math.max(0, Math.floor(selections[i].placeableTokens * cell.maxRepetition) - cell.plannedTokens) };
    });
    const found = searchFill(
      (extraTokens) => (extraTokens === 0 ? plan.rows.length : selectAndPack(loaded, census, raisesFor(cells, extraTokens)).plan.rows.length),
      {
        globalBatchRows: recipe.output.globalBatchRows,
        maxExtraTokens: maxExtraTokens(cells),
        rowTokens: recipe.rowTokens,
        maxEvaluations: MAX_FILL_EVALUATIONS,
        toleranceTokens: fillToleranceTokens(recipe.rowTokens),
      },
    );
    if (found.extraTokens > 0) {
      // Planned once more rather than keeping every tried plan: memory stays one plan.
      raise = raisesFor(cells, found.extraTokens);
      ({ plan, selections } = selectAndPack(loaded, census, raise));
    }
  }
  census.cells.forEach((cell, i) => {
    const source = census.accounts[cell.source];
    const account = cellAccount(census, i);
    const selection = selections[i];
    const counts = plan.cells[i];
    account.raisedTokens = raise[i];
    account.achieved = { documents: selection.achievedDocuments, tokens: selection.achievedTokens };
    account.repeatedTokens = selection.repeatedTokens;
    account.dropped.over_budget = { documents: selection.overBudgetDocuments, tokens: selection.overBudgetTokens };
    account.splitDocuments = counts.splitDocuments;
    account.dropped.truncated = { documents: counts.truncatedDocuments, tokens: counts.truncatedTokens };
    account.padTokens = counts.padTokens;
    account.fillerTokens = counts.fillerTokens;
    account.placedTokens = account.achieved.tokens - counts.truncatedTokens;
    source.placed.documents += account.achieved.documents;
    source.placed.tokens += account.placedTokens;
  });
  return plan;
}

/**
 * Moves the tokens of rows left out of the last global batch from `placed` to `dropped.last_batch`,
 * and padding of those rows out of the cells' padding.
 */
export function applyLastBatch(census: Census, plan: PackPlan, schedule: Schedule): void {
  for (const rowIndex of schedule.dropped) {
    const row = plan.rows[rowIndex];
    let longest = row.pieces[0];
    for (const piece of row.pieces) {
      const cell = census.cells[piece.cell];
      const source = census.accounts[cell.source];
      const account = cellAccount(census, piece.cell);
      account.dropped.last_batch.documents++;
      account.dropped.last_batch.tokens += piece.lengthTokens;
      account.placedTokens -= piece.lengthTokens;
      source.placed.tokens -= piece.lengthTokens;
      if (piece.startToken === 0) source.placed.documents--;
      if (piece.lengthTokens > longest.lengthTokens) longest = piece;
    }
    cellAccount(census, longest.cell).padTokens -= row.numPad;
  }
}
