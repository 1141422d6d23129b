/**
 * Formats a {@link PlanReport}: a table of cells (planned, available, status) and the per-source
 * census, then every unmet plan with its fix.
 */
import type { PlanReport } from '../run/plan.ts';
import { lengthDropped } from '../manifest/ledger.ts';
import { fmt, table } from './summary.ts';

/** The plan as text; `ok` is false when some cell's plan cannot be met. */
export function formatPlan(report: PlanReport, recipeName: string): { text: string; ok: boolean } {
  const rows = report.cells.map(({ cell, availableTokens, availableDocuments, problem }) => [
    `${cell.source} ${cell.bucket}`,
    cell.window,
    `${fmt(cell.min)}..${fmt(cell.max)}`,
    cell.plannedTokens === 'all' ? 'all' : fmt(cell.plannedTokens),
    fmt(availableTokens),
    fmt(availableDocuments),
    problem ? 'SHORT' : cell.plannedTokens !== 'all' && cell.plannedTokens > availableTokens ? 'repeats' : 'ok',
  ]);
  const census = Object.entries(report.accounts).map(([name, a]) => [
    name,
    fmt(a.read.documents),
    fmt(a.read.tokens),
    fmt(lengthDropped(a).documents),
    fmt(lengthDropped(a).tokens),
  ]);
  const problems = report.cells.filter((c) => c.problem).map((c) => `  ${c.problem!.message}`);
  const text = [
    `longmix plan: ${recipeName} (tokens include BOS/EOS)`,
    '',
    table(['cell (source bucket)', 'window', 'length range', 'planned', 'available', 'docs', 'status'], rows),
    '',
    table(['source', 'docs read', 'tokens read', 'docs outside buckets', 'tokens outside buckets'], census),
    ...(problems.length ? ['', 'Plans that cannot be met:', ...problems] : ['', 'Every plan can be met.']),
  ].join('\n');
  return { text, ok: problems.length === 0 };
}
