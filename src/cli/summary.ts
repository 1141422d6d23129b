/**
 * The one-screen summary printed after a build: tokens per source and cell (planned, available,
 * achieved, placed, dropped by reason, padding), rows by window, padding, input never tokenized,
 * why tokens were dropped or padded (one line per cause with the recipe knob that changes it),
 * shards, time and throughput.
 */
import { cellSums, lengthDropped } from '../manifest/ledger.ts';
import type { Manifest } from '../manifest/types.ts';
import { explainBuild, fmt, pct, plural } from '../report/explain.ts';
import { orderedSources } from '../report/flows.ts';
import { skippedLines } from '../report/sectionsTokens.ts';

export { fmt, plural };

/**
 * One line per source that read only part of its dataset (early stop): units used of units in the
 * dataset and why it stopped; nothing when every source read everything.
 */
function readingLines(manifest: Manifest): string[] {
  const partial = Object.entries(manifest.sources).filter(([, a]) => a.reading && a.reading.stop === 'budgets_met');
  return partial.map(
    ([name, a], i) =>
      `${i === 0 ? 'reading' : ''}`.padEnd(10) +
      `${name}: ${fmt(a.reading.used)} of ${fmt(a.reading.units)} files used (the shortest seeded prefix holding ${a.reading.oversample} x every cell's plan)`,
  );
}

/** Formats rows as an aligned text table (first column left-aligned, the rest right-aligned). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * Formats the summary of a finished build.
 * @param seconds - wall time of the build.
 */
export function formatSummary(manifest: Manifest, outDir: string, seconds: number): string {
  const sources = orderedSources(manifest).map(([name, a]) => {
    const bad = Object.values(a.badRecords).reduce((s, n) => s + (n ?? 0), 0);
    const sums = cellSums(a);
    return [
      name,
      a.window,
      fmt(a.read.documents),
      fmt(a.read.tokens),
      fmt(a.placed.tokens),
      fmt(lengthDropped(a).tokens),
      fmt(sums.overBudget),
      fmt(sums.truncated),
      fmt(sums.lastBatch),
      fmt(sums.repeated),
      fmt(bad),
    ];
  });
  const cells = orderedSources(manifest).flatMap(([name, a]) =>
    a.cells.map((c) => [
      `${name} ${c.bucket}`,
      c.plannedTokens === 'all' ? 'all' : fmt(c.plannedTokens),
      fmt(c.available.tokens),
      fmt(c.achieved.tokens),
      fmt(c.placedTokens),
      fmt(c.raisedTokens),
      fmt(c.splitDocuments),
      fmt(c.fillerTokens),
      fmt(c.padTokens),
    ]),
  );
  const t = manifest.totals;
  const g = manifest.geometry;
  const bytes = manifest.shards.reduce((s, sh) => s + sh.sizeBytes, 0);
  return [
    `longmix build-mix: ${manifest.recipe.name} -> ${outDir}`,
    `row ${fmt(g.rowTokens)} tokens, original window ${fmt(g.originalWindowTokens)} tokens, tokenizer ${manifest.tokenizer.name}; long rows: ${g.longRowAttention} attention; tokens include BOS/EOS`,
    '',
    table(
      ['source', 'window', 'docs', 'read', 'placed', 'drop:length', 'drop:budget', 'drop:truncated', 'drop:last batch', 'repeated', 'bad records'],
      sources,
    ),
    '',
    table(['cell (source bucket)', 'planned', 'available', 'achieved', 'placed', 'raised (fill)', 'split docs', 'as filler', 'pad:rows led'], cells),
    "pad:rows led = padding of the rows whose longest piece is from the cell (not padding inside the cell's documents)",
    '',
    ...readingLines(manifest),
    `rows      ${fmt(manifest.rows.total)} (short ${fmt(manifest.rows.short)}, long ${fmt(manifest.rows.long)}), ${plural(manifest.rows.pieces, 'piece')}; ${plural(manifest.rows.dropped.rows, 'row')} dropped that did not fill the last global batch`,
    `schedule  ${plural(manifest.schedule.steps, 'step')} of ${plural(manifest.schedule.globalBatchRows, 'row')} over ${plural(manifest.schedule.worldSize, 'rank')}`,
    `tokens    read ${fmt(t.tokensRead)}, placed ${fmt(t.tokensPlaced)} (${fmt(t.tokensRepeated)} repeated), dropped ${fmt(t.tokensDropped.too_short)} too short + ${fmt(t.tokensDropped.too_long)} too long + ${fmt(t.tokensDropped.outside_buckets)} outside buckets + ${fmt(t.tokensDropped.over_budget)} over budget + ${fmt(t.tokensDropped.truncated)} truncated + ${fmt(t.tokensDropped.last_batch)} last batch`,
    `padding   ${fmt(t.padTokens)} tokens (${pct(t.padTokens, manifest.rows.total * g.rowTokens)} of row tokens)`,
    ...skippedLines(manifest).map((line, i) => `${i === 0 ? 'skipped' : ''}`.padEnd(10) + line),
    ...explainBuild(manifest).map((note, i) => `${i === 0 ? 'why' : ''}`.padEnd(10) + note.text),
    `shards    ${fmt(manifest.shards.length)} (${fmt(bytes)} bytes)`,
    `time      ${seconds.toFixed(1)} s, ${fmt(Math.round(t.tokensRead / Math.max(seconds, 0.001)))} tokens/s read+tokenized`,
  ].join('\n');
}

/** The summary's line naming the report file, e.g. `report    out/sample/report.html (210,281 bytes): open it in a browser`. */
export function formatReportLine(written: { file: string; sizeBytes: number }): string {
  return `report    ${written.file} (${fmt(written.sizeBytes)} bytes): open it in a browser`;
}
