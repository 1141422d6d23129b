/**
 * Selection, fill and packing over the census of a build: pure functions of the in-cell
 * documents, their cells and the recipe (no I/O, no clock). They fill in the ledger's selection
 * and packing counts.
 */
import type { LoadedRecipe } from '../config/load.ts';
import type { CellSpec } from '../config/cells.ts';
import type { CellAccount, SourceAccount } from '../manifest/ledger.ts';
import { sortByKey } from '../core/keySort.ts';
import { packKey, selectionKey } from '../core/orderKeys.ts';
import { FILLER_STREAM, LONG_STREAM, packUses, SHORT_STREAM } from '../pack/plan.ts';
import type { PackColumns } from '../pack/rows.ts';
import { compareIds, selectCell, truncationLimitTokens, type CellPicks, type SelectionCounts } from '../select/plan.ts';
import { BudgetError, PipelineError } from '../core/errors.ts';
import { fillToleranceTokens, maxExtraTokens, MAX_FILL_EVALUATIONS, raisesFor, searchFill } from './fill.ts';
import type { Schedule } from './schedule.ts';
import type { CensusDocs } from './docs.ts';

/** The census as the planner sees it, columnar (a few bytes per in-cell document). */
export interface Census {
  /** Every cell of the recipe, in recipe then bucket order. */
  cells: CellSpec[];
  /** The in-cell documents, numbered in unit order (src/plan/docs.ts). */
  docs: CensusDocs;
  /** `members[i]`: the documents of `cells[i]` (indexes into `docs`), ascending. */
  members: Int32Array[];
  /** `lengths[i][k]`: tokens of document `members[i][k]`, BOS/EOS included. */
  lengths: Int32Array[];
  accounts: Record<string, SourceAccount>;
}

/** Seeded selection orders already made, by census and cell, then use (`repeat`): the same for every plan of a fill search. */
const ordersMade = new WeakMap<Census, Map<number, Int32Array>[]>();

/**
 * Cell `i`'s members in the seeded order of use `repeat` (src/select/plan.ts header), as
 * positions in `members[i]`: the first use's keys come from the census units' tables.
 */
function cellOrder(census: Census, seed: number, i: number, repeat: number): Int32Array {
  let byCell = ordersMade.get(census);
  if (!byCell) ordersMade.set(census, (byCell = census.cells.map(() => new Map())));
  const made = byCell[i].get(repeat);
  if (made) return made;
  const { docs } = census;
  const members = census.members[i];
  const source = census.cells[i].source;
  const keys = new BigUint64Array(members.length);
  for (let k = 0; k < members.length; k++) keys[k] = repeat === 0 ? docs.selectionKey(members[k]) : selectionKey(seed, source, docs.id(members[k]), repeat);
  const order = sortByKey(keys, (a, b) => compareIds(docs.id(members[a]), docs.id(members[b])));
  byCell[i].set(repeat, order);
  return order;
}

/** Tokens cell `i` holds (its documents' lengths summed). */
function cellTokens(census: Census, i: number): number {
  let sum = 0;
  for (const length of census.lengths[i]) sum += length;
  return sum;
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
  census.cells.forEach((cell, i) => (tokens += cell.plannedTokens === 'all' ? cellTokens(census, i) : cell.plannedTokens));
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
    .map((c, i) => ({ c, tokens: c.plannedTokens === 'all' ? cellTokens(census, i) : c.plannedTokens }))
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

/**
 * Selection and packing for given per-cell plan raises (tokens), without touching the accounts:
 * the selected uses, cell by cell in selection order, go to the packer as columns.
 */
function selectAndPack(
  loaded: LoadedRecipe,
  census: Census,
  raise: readonly number[],
  onProgress?: (p: PlanProgress) => void,
): { plan: PackColumns; selections: SelectionCounts[] } {
  const { recipe } = loaded;
  const { docs } = census;
  let selectedBefore = 0;
  const picks: CellPicks[] = census.cells.map((cell, i) => {
    const planned = cell.plannedTokens === 'all' || raise[i] === 0 ? cell.plannedTokens : cell.plannedTokens + raise[i];
    const p = selectCell(
      { ...cell, plannedTokens: planned },
      { lengthTokens: census.lengths[i], order: (repeat) => cellOrder(census, recipe.seed, i, repeat) },
      truncationLimitTokens(recipe, cell.window),
      onProgress && ((uses) => onProgress({ documents: selectedBefore + uses, rows: 0 })),
    );
    selectedBefore += p.position.length;
    return p;
  });
  const total = picks.reduce((sum, p) => sum + p.position.length, 0);
  const uses = {
    doc: new Int32Array(total),
    repeat: new Int32Array(total),
    cell: new Int32Array(total),
    lengthTokens: new Int32Array(total),
    stream: new Uint8Array(total),
  };
  let u = 0;
  picks.forEach((p, i) => {
    const cell = census.cells[i];
    const stream = cell.window === 'long' ? LONG_STREAM : cell.source === recipe.packing.longRowFiller ? FILLER_STREAM : SHORT_STREAM;
    for (let j = 0; j < p.position.length; j++, u++) {
      uses.doc[u] = census.members[i][p.position[j]];
      uses.repeat[u] = p.repeat[j];
      uses.cell[u] = i;
      uses.lengthTokens[u] = census.lengths[i][p.position[j]];
      uses.stream[u] = stream;
    }
  });
  const key = (use: number, part: number) => {
    const doc = uses.doc[use];
    const repeat = uses.repeat[use];
    return repeat === 0 && part === 0 ? docs.packKey(doc) : packKey(recipe.seed, docs.source(doc), docs.id(doc), repeat, part);
  };
  const plan = packUses(
    { ...uses, key },
    {
      rowTokens: recipe.rowTokens,
      originalWindowTokens: recipe.originalWindowTokens,
      seed: recipe.seed,
      bufferTokens: bufferTokensOf(loaded),
      longDocPolicy: recipe.packing.longDocPolicy,
      shortDocPolicy: recipe.packing.shortDocPolicy,
      fillerSource: recipe.packing.longRowFiller,
      allowCopiesInRow: recipe.packing.allowCopiesInRow ?? false,
      cellCount: census.cells.length,
    },
    onProgress && ((rows) => onProgress({ documents: total, rows })),
  );
  return { plan, selections: picks.map(({ position: _p, repeat: _r, ...counts }) => counts) };
}

/** Progress of the plan's selection and packing. */
export interface PlanProgress {
  /** Uses of documents selected so far (a repeat counts again). */
  documents: number;
  /** Rows packed so far (0 while selecting). */
  rows: number;
}

/**
 * Selects per cell and plans the packing; fills the accounts' selection and packing counts.
 *
 * `lastBatchPolicy: fill`: the numeric budgets are raised by the smallest amount, shared in
 * proportion to each cell's plan and capped by what the cell holds, whose packing fills whole
 * global batches ({@link searchFill}); each cell reports its raise as `raisedTokens`. When no such
 * raise exists, nothing is raised and the rows left over are dropped and counted, as under `drop`.
 *
 * Progress (`onProgress`): the uses selected, then the rows packed, of the first planning; under
 * `fill`, the search's plannings are not reported, and the final planning's counts once they
 * pass the first's (a raise only adds documents). Counts never go back, and the last report is
 * the final plan's counts (in the rare case where a raise packs fewer rows, that one report
 * lowers the rows).
 * @throws BudgetError naming the first cell whose plan cannot be met.
 */
export function planBuild(loaded: LoadedRecipe, census: Census, onProgress?: (p: PlanProgress) => void): PackColumns {
  const { recipe } = loaded;
  const zero = census.cells.map(() => 0);
  // Reports never go back: each count is the highest reported so far.
  let shown: PlanProgress = { documents: 0, rows: 0 };
  const report =
    onProgress &&
    ((p: PlanProgress) => {
      const next = { documents: Math.max(shown.documents, p.documents), rows: Math.max(shown.rows, p.rows) };
      if (next.documents === shown.documents && next.rows === shown.rows) return;
      onProgress((shown = next));
    });
  let { plan, selections } = selectAndPack(loaded, census, zero, report);
  let raise = zero;
  if (recipe.output.lastBatchPolicy === 'fill' && plan.rows.count % recipe.output.globalBatchRows !== 0) {
    const cells = census.cells.map((cell, i) => {
      if (cell.plannedTokens === 'all') return { planned: null, capRaise: 0 };
      return { planned: cell.plannedTokens, capRaise: Math.max(0, Math.floor(selections[i].placeableTokens * cell.maxRepetition) - cell.plannedTokens) };
    });
    const found = searchFill(
      (extraTokens) => (extraTokens === 0 ? plan.rows.count : selectAndPack(loaded, census, raisesFor(cells, extraTokens)).plan.rows.count),
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
      ({ plan, selections } = selectAndPack(loaded, census, raise, report));
    }
  }
  const final = { documents: selections.reduce((sum, x) => sum + x.achievedDocuments, 0), rows: plan.rows.count };
  if (onProgress && (final.documents !== shown.documents || final.rows !== shown.rows)) onProgress(final);
  ordersMade.delete(census); // the selection orders are not needed past the fill search
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
export function applyLastBatch(census: Census, plan: PackColumns, schedule: Schedule): void {
  const { rows, pieces } = plan;
  for (const rowIndex of schedule.dropped) {
    let longest = rows.refs[rows.first[rowIndex]];
    for (let k = rows.first[rowIndex]; k < rows.first[rowIndex + 1]; k++) {
      const ref = rows.refs[k];
      const cell = census.cells[pieces.cell[ref]];
      const source = census.accounts[cell.source];
      const account = cellAccount(census, pieces.cell[ref]);
      account.dropped.last_batch.documents++;
      account.dropped.last_batch.tokens += pieces.lengthTokens[ref];
      account.placedTokens -= pieces.lengthTokens[ref];
      source.placed.tokens -= pieces.lengthTokens[ref];
      if (pieces.startToken[ref] === 0) source.placed.documents--;
      if (pieces.lengthTokens[ref] > pieces.lengthTokens[longest]) longest = ref;
    }
    cellAccount(census, pieces.cell[longest]).padTokens -= rows.numPad[rowIndex];
  }
}
