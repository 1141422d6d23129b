/**
 * Budget cells: one per source × length bucket, with the planned tokens after `scale` and
 * shares. Pure.
 *
 * Rules:
 * - a numeric budget is multiplied by `scale` and rounded to whole tokens (at least 1);
 * - a source budget is split over buckets by share: every bucket but the last gets
 *   `floor(budget × share / Σshares)`, the last gets the rest, so the cells sum to the budget;
 *   a source budget of `"all"` makes every bucket `"all"`;
 * - without `buckets`, the source has one bucket, its `lengthTokens` range, named `<min>-<max>`.
 */
import type { Recipe, SourceConfig } from './schema.ts';

/** One budget cell. Lengths and budgets are tokens, BOS/EOS included. */
export interface CellSpec {
  source: string;
  bucket: string;
  /** Closed length range `[min, max]`. */
  min: number;
  max: number;
  plannedTokens: number | 'all';
  window: 'short' | 'long';
  maxRepetition: number;
}

const scaled = (tokens: number | 'all', scale: number): number | 'all' => (tokens === 'all' ? 'all' : Math.max(1, Math.round(tokens * scale)));

/** The cells of one source, sorted by `min`. */
export function sourceCells(source: SourceConfig, scale: number): CellSpec[] {
  const base = { source: source.name, window: source.window, maxRepetition: source.maxRepetition };
  const buckets = (source.buckets ?? [{ min: source.lengthTokens.min, max: source.lengthTokens.max }]).slice().sort((a, b) => a.min - b.min);
  const name = (b: { name?: string; min: number; max: number }) => b.name ?? `${b.min}-${b.max}`;
  if (buckets.every((b) => 'budgetTokens' in b && b.budgetTokens !== undefined)) {
    return buckets.map((b) => ({
      ...base,
      bucket: name(b),
      min: b.min,
      max: b.max,
      plannedTokens: scaled((b as { budgetTokens: number | 'all' }).budgetTokens, scale),
    }));
  }
  const total = scaled(source.budgetTokens ?? 'all', scale);
  const shares = buckets.map((b) => ('share' in b && b.share !== undefined ? b.share : 1));
  const sum = shares.reduce((s, x) => s + x, 0);
  let given = 0;
  return buckets.map((b, i) => {
    let plannedTokens: number | 'all' = 'all';
    if (total !== 'all') {
      plannedTokens = i === buckets.length - 1 ? total - given : Math.floor((total * shares[i]) / sum);
      given += plannedTokens;
    }
    return { ...base, bucket: name(b), min: b.min, max: b.max, plannedTokens };
  });
}

/** Every cell of the recipe, in recipe order then bucket order. */
export function recipeCells(recipe: Pick<Recipe, 'sources' | 'scale'>): CellSpec[] {
  return recipe.sources.flatMap((s) => sourceCells(s, recipe.scale));
}

/** Index of the cell (within `cells`, sorted by min) whose range holds `lengthTokens`, or -1. */
export function cellOf(cells: readonly CellSpec[], lengthTokens: number): number {
  let lo = 0;
  let hi = cells.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (lengthTokens < cells[mid].min) hi = mid - 1;
    else if (lengthTokens > cells[mid].max) lo = mid + 1;
    else return mid;
  }
  return -1;
}
