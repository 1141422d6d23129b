/**
 * The one-screen summary printed after a build: tokens per source and cell (planned, available,
 * achieved, placed, dropped by reason, padding), rows by window, padding, shards, time and
 * throughput.
 */
import { cellSums, lengthDropped } from '../manifest/ledger.ts';
import type { Manifest } from '../manifest/types.ts';

/** An integer with thousands separators (en-US). */
export const fmt = (n: number) => n.toLocaleString('en-US');
const pct = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(2)}%` : '0.00%');

/** `n noun` or `n nouns`, with thousands separators. */
export const plural = (n: number, noun: string) => `${fmt(n)} ${noun}${n === 1 ? '' : 's'}`;

/** One line per source with skipped bad records, filtered documents or empty input, by reason. */
function badRecordLines(manifest: Manifest): string[] {
  return Object.entries(manifest.sources).flatMap(([name, a]) => {
    const reasons = Object.entries(a.badRecords).map(([reason, n]) => `${reason} ${fmt(n ?? 0)}`);
    const filtered = a.qualityFiltered.documents ? [`quality_filter ${fmt(a.qualityFiltered.documents)} (never tokenized)`] : [];
    const empty = Object.entries(a.skipped).flatMap(([reason, n]) => (n ? [`${reason} ${fmt(n)}`] : []));
    const all = [...reasons, ...filtered, ...empty];
    return all.length ? [`skipped   ${name}: ${all.join(', ')}`] : [];
  });
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
  const sources = Object.entries(manifest.sources).map(([name, a]) => {
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
  const cells = Object.entries(manifest.sources).flatMap(([name, a]) =>
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
    table(['cell (source bucket)', 'planned', 'available', 'achieved', 'placed', 'raised (fill)', 'split docs', 'as filler', 'padding'], cells),
    '',
    `rows      ${fmt(manifest.rows.total)} (short ${fmt(manifest.rows.short)}, long ${fmt(manifest.rows.long)}), ${plural(manifest.rows.pieces, 'piece')}; ${plural(manifest.rows.dropped.rows, 'row')} dropped that did not fill the last global batch`,
    `schedule  ${plural(manifest.schedule.steps, 'step')} of ${plural(manifest.schedule.globalBatchRows, 'row')} over ${plural(manifest.schedule.worldSize, 'rank')}${manifest.rows.dropped.policy === 'fill' && manifest.rows.dropped.rows > 0 ? '; fill: no raise of the numeric budgets within what their cells hold packs whole global batches, so the rows left over were dropped' : ''}`,
    `tokens    read ${fmt(t.tokensRead)}, placed ${fmt(t.tokensPlaced)} (${fmt(t.tokensRepeated)} repeated), dropped ${fmt(t.tokensDropped.too_short)} too short + ${fmt(t.tokensDropped.too_long)} too long + ${fmt(t.tokensDropped.outside_buckets)} outside buckets + ${fmt(t.tokensDropped.over_budget)} over budget + ${fmt(t.tokensDropped.truncated)} truncated + ${fmt(t.tokensDropped.last_batch)} last batch`,
    `padding   ${fmt(t.padTokens)} tokens (${pct(t.padTokens, manifest.rows.total * g.rowTokens)} of row tokens)`,
    ...badRecordLines(manifest),
    `shards    ${fmt(manifest.shards.length)} (${fmt(bytes)} bytes)`,
    `time      ${seconds.toFixed(1)} s, ${fmt(Math.round(t.tokensRead / Math.max(seconds, 0.001)))} tokens/s read+tokenized`,
  ].join('\n');
}
