/**
 * `lastBatchPolicy: fill`: the smallest raise of the numeric budgets that packs whole global
 * batches.
 *
 * The raise is one number, `extraTokens`, shared over the growable cells in proportion to their
 * plans (`ceil(extraTokens · planned_i / Σ planned)`, each capped by what the cell holds times its
 * `maxRepetition`). Selection takes documents in a fixed seeded order, so more budget only adds
 * documents and the row count grows (almost always monotonically) with `extraTokens`. The search
 * doubles a step until the next multiple of the global batch is reached, then bisects down to the
 * smallest raise that reaches it, to within `toleranceTokens` (each planning costs about as much
 * as packing the whole mix, ~23 µs per document here: ~17 s at the paper's full scale, so the
 * search stops at a tolerance instead of the last token). When a single token of raise jumps past
 * that multiple (one document can add two rows), it aims at the next multiple. When the evaluations run out during
 * bisection, the whole-batch raise found so far is kept (it may then not be the smallest). When no
 * raise within the caps reaches a multiple, or the evaluations run out before one is found,
 * nothing is raised and the rows left over are dropped as under `drop`.
 */

/** What the fill search found. */
export interface FillResult {
  /** Tokens added over all growable cells (0: nothing raised). */
  extraTokens: number;
  /** Rows packed with that raise. */
  rows: number;
  /** Times selection and packing were planned (`rowsAt` calls), the first included. */
  evaluations: number;
}

/** Limits of the fill search. */
export interface FillOptions {
  /** Rows per global batch (G), >= 1. */
  globalBatchRows: number;
  /** Largest useful raise, tokens: every growable cell is at its cap there. */
  maxExtraTokens: number;
  /** First step of the doubling search per missing row, tokens (the row length). */
  rowTokens: number;
  /** Most `rowsAt` calls (each plans selection and packing once). */
  maxEvaluations: number;
  /** Bisection stops when the bracket is this narrow, tokens (>= 1; 1 = the exact smallest raise). */
  toleranceTokens: number;
}

/** Most plannings of selection and packing one fill search may do. */
export const MAX_FILL_EVALUATIONS = 64;

/** The fill search's tolerance for rows of `rowTokens`: 1/64 of a row (2,048 tokens at 131,072). */
export const fillToleranceTokens = (rowTokens: number): number => Math.max(1, Math.floor(rowTokens / 64));

/**
 * Finds the smallest `extraTokens` in [0, `maxExtraTokens`] (to within `toleranceTokens`) whose
 * packing (`rowsAt`) is a whole number of global batches, as described above; `extraTokens` 0
 * when none is found.
 * @param rowsAt - rows packed when `extraTokens` tokens are added (deterministic).
 */
export function searchFill(rowsAt: (extraTokens: number) => number, options: FillOptions): FillResult {
  const G = options.globalBatchRows;
  let evaluations = 0;
  const at = (x: number): number => (evaluations++, rowsAt(x));
  const rows0 = at(0);
  const none: () => FillResult = () => ({ extraTokens: 0, rows: rows0, evaluations });
  if (rows0 % G === 0 || options.maxExtraTokens <= 0) return none();
  let lo = 0;
  let rowsLo = rows0;
  let target = Math.ceil(rows0 / G) * G;
  while (evaluations < options.maxEvaluations) {
    // Doubling: find hi with rows(hi) >= target.
    let step = Math.max(1, (target - rowsLo) * options.rowTokens);
    let hi = Math.min(options.maxExtraTokens, lo + step);
    let rowsHi = at(hi);
    while (rowsHi < target && hi < options.maxExtraTokens && evaluations < options.maxEvaluations) {
      [lo, rowsLo] = [hi, rowsHi];
      step *= 2;
      hi = Math.min(options.maxExtraTokens, lo + step);
      rowsHi = at(hi);
    }
    if (rowsHi < target) return none();
    // Bisection: rows(lo) < target <= rows(hi).
    while (hi - lo > Math.max(1, options.toleranceTokens) && evaluations < options.maxEvaluations) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const rows = at(mid);
      if (rows >= target) [hi, rowsHi] = [mid, rows];
      else [lo, rowsLo] = [mid, rows];
    }
    if (rowsHi % G === 0) return { extraTokens: hi, rows: rowsHi, evaluations };
    [lo, rowsLo] = [hi, rowsHi];
    target = Math.ceil(rowsHi / G) * G;
  }
  return none();
}

/** ceil(a · b / c) for non-negative integers, exact beyond 2^53 (a · b can reach 10^20 at paper scale). */
function mulDivCeil(a: number, b: number, c: number): number {
  const [A, B, C] = [BigInt(a), BigInt(b), BigInt(c)];
  return Number((A * B + C - 1n) / C);
}

/**
 * A cell as the fill search sees it: `planned` tokens (null: budget "all", never raised) and
 * `capRaise`, the most tokens it can add (available × maxRepetition − planned).
 */
export interface FillCell {
  planned: number | null;
  capRaise: number;
}

/** A cell that takes a share of the raise: a numeric plan above 0 and room to grow. */
const isGrowable = (c: FillCell): c is FillCell & { planned: number } => c.planned !== null && c.planned > 0 && c.capRaise > 0;

/** Σ planned over the growable cells, tokens. */
const growablePlanned = (cells: readonly FillCell[]): number => cells.reduce((s, c) => s + (isGrowable(c) ? c.planned : 0), 0);

/**
 * Each cell's raise for `extraTokens`: `min(capRaise_i, ceil(extraTokens · planned_i / Σ planned))`
 * over the growable cells, 0 elsewhere.
 */
export function raisesFor(cells: readonly FillCell[], extraTokens: number): number[] {
  const total = growablePlanned(cells);
  return cells.map((c) => (isGrowable(c) ? Math.min(c.capRaise, mulDivCeil(extraTokens, c.planned, total)) : 0));
}

/** The raise at which every growable cell is at its cap, tokens (0 when none can grow). */
export function maxExtraTokens(cells: readonly FillCell[]): number {
  const total = growablePlanned(cells);
  return cells.reduce((m, c) => (isGrowable(c) ? Math.max(m, mulDivCeil(c.capRaise, total, c.planned)) : m), 0);
}
