/**
 * `plan`: the length census of a recipe's sources and, per cell (source × length bucket), planned
 * against available tokens, before the expensive build. It runs the census stage of a build (the
 * same units, on the same worker pool; the census must use the real tokenizer: character counts
 * are not token counts) into a work directory, temporary unless one is given, in which case a
 * later `build-mix --work` with the same recipe reuses the census instead of reading again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LoadedRecipe } from '../config/load.ts';
import { BudgetError } from '../core/errors.ts';
import { checkCellBudget, placeableTokens, truncationLimitTokens } from '../select/plan.ts';
import type { CellSpec } from '../config/cells.ts';
import { buildTokenizerSpec } from '../tokenize/registry.ts';
import type { TokenizerSpec } from '../tokenize/tokenizer.ts';
import type { SourceAccount } from '../manifest/ledger.ts';
import { censusOf } from '../plan/reduce.ts';
import type { BuildProgress } from './build.ts';
import { UnitPool, type StageProgress } from './pool.ts';
import { createRunRecord } from './runRecord.ts';
import { censusAvailable, censusUnits, doneRecord } from './stages.ts';
import { CensusQueue } from './earlyStop.ts';
import { openRun } from './workDir.ts';

/** One cell of the plan. Tokens include BOS/EOS. */
export interface PlanCell {
  cell: CellSpec;
  /** Tokens rows can hold of the cell's documents (under a truncate policy, each counted up to the truncation limit). */
  availableTokens: number;
  availableDocuments: number;
  /** Token length of every in-range document of the cell, census order (unit order, then document order). */
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
 * @param workDir - keep the census there (for a later `build-mix --work`); default a temporary directory, removed.
 * @returns every cell, with `problem` set where the plan cannot be met (nothing is thrown for that).
 * @throws InputError on a bad record or unreadable input; PipelineError when `workDir` holds another run.
 */
export async function planRecipe(
  loaded: LoadedRecipe,
  workers: number,
  tokenizerSpec?: TokenizerSpec,
  onProgress?: (p: BuildProgress) => void,
  workDir?: string,
): Promise<PlanReport> {
  const spec = tokenizerSpec ?? (await buildTokenizerSpec(loaded.recipe.tokenizer));
  const dir = workDir ? path.resolve(workDir) : await mkdtemp(path.join(os.tmpdir(), 'longmix-plan-'));
  try {
    const run = await createRunRecord(loaded, spec.identity, [], path.join(dir, 'out'), dir);
    await openRun(run, false);
    const pending = async (stage: 'group' | 'census', count: number) => {
      const out: number[] = [];
      for (let i = 0; i < count; i++) if (!(await doneRecord(run, stage, i))) out.push(i);
      return out;
    };
    const totalInputBytes = run.inputs.reduce((s, i) => s + i.sizeBytes, 0);
    const pool = new UnitPool(run, spec, workers);
    try {
      const report = (p: StageProgress) => onProgress?.({ ...p, totalInputBytes, totalRows: 0 });
      await pool.run('group', await pending('group', run.group.length), report, run.group.length);
      const queue = new CensusQueue(run, (u) => censusAvailable(run, u));
      const remaining = await queue.load();
      await pool.run(
        'census',
        { next: () => queue.next(), done: (u) => queue.doneUnit(u), alreadyDone: run.census.length - remaining },
        report,
        run.census.length,
      );
    } finally {
      await pool.close();
    }
    const { units } = await censusUnits(run);
    const files = new Map<string, number>();
    for (const input of run.inputs) files.set(input.source, (files.get(input.source) ?? 0) + 1);
    const census = censusOf(loaded, units, files);
    const cells = census.cells.map((cell, i) => {
      // What rows can hold: under a truncate policy, documents count up to the truncation limit (as selection counts them).
      const limit = truncationLimitTokens(loaded.recipe, cell.window);
      const availableTokens = census.lengths[i].reduce((s, length) => s + placeableTokens(length, limit), 0);
      const availableDocuments = census.lengths[i].length;
      let problem: BudgetError | null = null;
      try {
        checkCellBudget(cell, availableTokens, availableDocuments, limit);
      } catch (error) {
        if (!(error instanceof BudgetError)) throw error;
        problem = error;
      }
      return { cell, availableTokens, availableDocuments, lengthTokens: Array.from(census.lengths[i]), problem };
    });
    return { cells, accounts: census.accounts };
  } finally {
    if (!workDir) await rm(dir, { recursive: true, force: true });
  }
}
