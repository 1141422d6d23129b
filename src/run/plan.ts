/**
 * `plan`: the length census of a recipe's sources and, per cell (source × length bucket), planned
 * against available tokens, before the expensive pass. Reads and tokenizes every document (the
 * census must use the real tokenizer: character counts are not token counts) but writes nothing.
 */
import type { LoadedRecipe } from '../config/load.ts';
import { BudgetError } from '../core/errors.ts';
import { checkCellBudget } from '../select/plan.ts';
import type { CellSpec } from '../config/cells.ts';
import { buildTokenizerSpec } from '../tokenize/registry.ts';
import { TokenizerPool } from '../tokenize/pool.ts';
import type { TokenizerSpec } from '../tokenize/tokenizer.ts';
import type { SourceAccount } from '../manifest/ledger.ts';
import { takeCensus, type BuildProgress } from '../census/census.ts';
import { resolveInputs } from './build.ts';

/** One cell of the plan. Tokens include BOS/EOS. */
export interface PlanCell {
  cell: CellSpec;
  availableTokens: number;
  availableDocuments: number;
  /** Token length of every in-range document of the cell, census order. */
  lengthTokens: number[];
  /** Why the plan cannot be met, or null. */
  problem: BudgetError | null;
}

/** The plan of a recipe. */
export interface PlanReport {
  cells: PlanCell[];
  accounts: Record<string, SourceAccount>;
}

/**
 * Takes the census and checks every cell's plan.
 * @returns every cell, with `problem` set where the plan cannot be met (nothing is thrown for that).
 */
export async function planRecipe(
  loaded: LoadedRecipe,
  workers: number,
  tokenizerSpec?: TokenizerSpec,
  onProgress?: (p: BuildProgress) => void,
): Promise<PlanReport> {
  const spec = tokenizerSpec ?? (await buildTokenizerSpec(loaded.recipe.tokenizer));
  const { sources, inputs } = await resolveInputs(loaded);
  const progress: BuildProgress = {
    phase: 'tokenize',
    documents: 0,
    tokens: 0,
    rows: 0,
    totalRows: 0,
    inputBytes: 0,
    totalInputBytes: inputs.reduce((s, i) => s + i.sizeBytes, 0),
  };
  const pool = new TokenizerPool(spec, workers);
  try {
    const census = await takeCensus(loaded.recipe, sources, pool, undefined, progress, onProgress);
    const cells = census.cells.map((cell, i) => {
      const availableTokens = census.candidates[i].reduce((s, c) => s + c.lengthTokens, 0);
      const availableDocuments = census.candidates[i].length;
      let problem: BudgetError | null = null;
      try {
        checkCellBudget(cell, availableTokens, availableDocuments);
      } catch (error) {
        if (!(error instanceof BudgetError)) throw error;
        problem = error;
      }
      return { cell, availableTokens, availableDocuments, lengthTokens: census.candidates[i].map((c) => c.lengthTokens), problem };
    });
    return { cells, accounts: census.accounts };
  } finally {
    await pool.close();
  }
}
