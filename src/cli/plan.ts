/**
 * Formats a {@link PlanReport}: a table of cells (planned, available, status) and the per-source
 * census, then every unmet plan with its fix.
 */
import { bytesText } from '../core/bytesText.ts';
import type { PlanReport } from '../run/plan.ts';
import type { BuildEstimate } from '../run/estimate.ts';
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

/** Formats a {@link BuildEstimate}: per cell the yield and units needed, per source what it reads, then the whole build's cost. */
export function formatEstimate(estimate: BuildEstimate, recipeName: string, sampleUnits: number): string {
  const cells = estimate.sources.flatMap((s) =>
    s.cells.map((c) => [
      `${s.source} ${c.cell.bucket}`,
      c.cell.plannedTokens === 'all' ? 'all' : fmt(c.cell.plannedTokens),
      fmt(Math.round(c.tokensPerUnit)),
      fmt(Math.round(c.tokensPerGB)),
      c.unitsNeeded === null ? (c.cell.plannedTokens === 'all' ? 'all' : '∞') : fmt(c.unitsNeeded),
      fmt(Math.round(c.projectedTokens)),
      c.enough ? 'yes' : 'NO',
    ]),
  );
  const sources = estimate.sources.map((s) => [
    s.source,
    `${fmt(s.sampledUnits)} of ${fmt(s.units)}`,
    `${fmt(s.unitsToRead)} (${bytesText(s.bytesToRead)})`,
    bytesText(s.datasetBytes),
    fmt(Math.round(s.documentsToTokenize)),
    s.coreHours.toFixed(s.coreHours < 1 ? 3 : 1),
    bytesText(s.tokenStoreBytes),
    s.note ?? '',
  ]);
  const t = estimate.totals;
  const short = estimate.sources.flatMap((s) =>
    s.cells
      .filter((c) => !c.enough)
      .map(
        (c) => `  ${s.source} ${c.cell.bucket}: the dataset is projected to hold ${fmt(Math.round(c.projectedTokens))} tokens, less than its plan × oversample`,
      ),
  );
  return [
    `longmix plan --estimate: ${recipeName}, projected from the first ${sampleUnits} unit(s) of each source's seeded read order (tokens include BOS/EOS)`,
    '',
    table(['cell (source bucket)', 'planned', 'tokens/unit', 'tokens/GB', 'units needed', 'dataset holds', 'enough'], cells),
    '',
    table(['source', 'sampled units', 'units to read', 'dataset', 'docs to tokenize', 'core-hours', 'token store', ''], sources),
    '',
    `whole build: read ${bytesText(t.bytesToRead)} of input, tokenize ${fmt(Math.round(t.documentsToTokenize))} documents, about ${t.coreHours.toFixed(t.coreHours < 1 ? 3 : 1)} core-hours at the measured rate, ${bytesText(t.tokenStoreBytes)} of token stores in the work directory`,
    ...(short.length ? ['', 'Cells the dataset cannot fill:', ...short] : []),
  ].join('\n');
}
