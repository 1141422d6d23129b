/**
 * The one-screen summary printed after a build: tokens per source, rows by window, padding,
 * tokens dropped by reason, shards, time and throughput.
 */
import type { Manifest } from '../manifest/types.ts';

const fmt = (n: number) => n.toLocaleString('en-US');
const pct = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(2)}%` : '0.00%');

function table(header: string[], rows: string[][]): string {
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
    return [name, a.window, fmt(a.read.documents), fmt(a.read.tokens), a.budgetTokens === 'all' ? 'all' : fmt(a.budgetTokens), fmt(a.placed.tokens), fmt(a.dropped.length_filter.tokens), fmt(a.dropped.over_budget.tokens), fmt(a.splitDocuments), fmt(bad)];
  });
  const t = manifest.totals;
  const rowTokens = manifest.geometry.rowTokens;
  const bytes = manifest.shards.reduce((s, sh) => s + sh.sizeBytes, 0);
  return [
    `longmix build-mix: ${manifest.recipe.name} -> ${outDir}`,
    `row ${fmt(rowTokens)} tokens, original window ${fmt(manifest.geometry.originalWindowTokens)} tokens, tokenizer ${manifest.tokenizer.name}; tokens include BOS/EOS`,
    '',
    table(['source', 'window', 'docs', 'tokens read', 'budget', 'placed', 'drop:length', 'drop:budget', 'split docs', 'bad records'], sources),
    '',
    `rows      ${fmt(manifest.rows.total)} (short ${fmt(manifest.rows.short)}, long ${fmt(manifest.rows.long)}), ${fmt(manifest.rows.pieces)} pieces`,
    `tokens    read ${fmt(t.tokensRead)}, placed ${fmt(t.tokensPlaced)}, dropped ${fmt(t.tokensDropped.length_filter)} (length filter) + ${fmt(t.tokensDropped.over_budget)} (over budget)`,
    `padding   ${fmt(t.padTokens)} tokens (${pct(t.padTokens, manifest.rows.total * rowTokens)} of row tokens)`,
    `shards    ${manifest.shards.length} (${fmt(bytes)} bytes)`,
    `time      ${seconds.toFixed(1)} s, ${fmt(Math.round(t.tokensRead / Math.max(seconds, 0.001)))} tokens/s read+tokenized`,
  ].join('\n');
}
