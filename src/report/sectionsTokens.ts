/**
 * The report's first sections, from the manifest: the summary (key figures and why tokens were
 * lost), where every token went, and the mix (planned vs achieved; window classes).
 */
import { cellSums } from '../manifest/ledger.ts';
import type { Manifest } from '../manifest/types.ts';
import { flowChart, mixChart, windowShareChart } from './charts.ts';
import { explainBuild, fmt, pct, plural } from './explain.ts';
import { cellFlows, cellMix, orderedSources, sourceFlows } from './flows.ts';
import { escapeHtml, figure, htmlTable, para, section } from './html.ts';
import { renderSvg } from './render.ts';
import type { RowStats } from './rowStats.ts';

const kpi = (value: string, label: string) => `<div class="kpi"><b>${escapeHtml(value)}</b><span>${escapeHtml(label)}</span></div>`;

/**
 * Lines on input never tokenized: per source with bad records, quality-filtered documents, blank
 * lines, empty files or corrupt files left out, by reason; one line saying there was none otherwise.
 */
export function skippedLines(manifest: Manifest): string[] {
  const lines = orderedSources(manifest).flatMap(([name, a]) => {
    const bad = Object.entries(a.badRecords).map(([reason, n]) => `bad record ${reason} ${fmt(n ?? 0)}`);
    const filtered = a.qualityFiltered.documents ? [`${fmt(a.qualityFiltered.documents)} quality-filtered documents`] : [];
    const empty = Object.entries(a.skipped).flatMap(([reason, n]) => (n ? [`${reason} ${fmt(n)}`] : []));
    const corrupt = (a.corruptFiles ?? []).map((f) => `corrupt file ${f.path} left out at byte ${fmt(f.byteOffset)} (onBadFile: skip)`);
    const prefiltered = a.prefiltered?.documents
      ? [
          `${fmt(a.prefiltered.documents)} document${a.prefiltered.documents === 1 ? '' : 's'} (${fmt(a.prefiltered.bytes)} bytes) too short by their length in bytes, never tokenized`,
        ]
      : [];
    const all = [...bad, ...filtered, ...empty, ...corrupt, ...prefiltered];
    return all.length ? [`${name}: ${all.join(', ')}`] : [];
  });
  return lines.length ? lines : ['None: 0 bad records, 0 quality-filtered documents, 0 blank lines and 0 empty files in every source.'];
}

/** The summary section: key figures, the causes of padding and drops, and skipped input. */
export function summarySection(manifest: Manifest): string {
  const t = manifest.totals;
  const rowTokens = manifest.rows.total * manifest.geometry.rowTokens;
  const dropped = Object.values(t.tokensDropped).reduce((s, n) => s + n, 0);
  const kpis = [
    kpi(fmt(manifest.rows.total), `${manifest.rows.total === 1 ? 'row' : 'rows'} (${fmt(manifest.rows.long)} long, ${fmt(manifest.rows.short)} short)`),
    kpi(fmt(t.tokensPlaced), 'document tokens in rows'),
    kpi(pct(t.padTokens, rowTokens), `padding (${fmt(t.padTokens)} tokens)`),
    kpi(fmt(t.tokensRead), 'tokens read'),
    kpi(fmt(dropped), 'tokens dropped, by reason below'),
    kpi(`${fmt(manifest.schedule.steps)} × ${fmt(manifest.schedule.globalBatchRows)}`, `steps × rows, ${plural(manifest.schedule.worldSize, 'rank')}`),
  ];
  const notes = explainBuild(manifest);
  const body = notes.length
    ? `<ul class="notes">${notes.map((n) => `<li>${escapeHtml(n.text)}</li>`).join('')}</ul>`
    : para('Nothing to explain: every token read was placed, and padding is under 1% of the row tokens.', 'ok');
  const skipped = `<h3>Input never tokenized</h3><ul class="notes">${skippedLines(manifest)
    .map((l) => `<li>${escapeHtml(l)}</li>`)
    .join('')}</ul>`;
  return section('summary', 'Summary', `<div class="kpis">${kpis.join('')}</div><h3>Why tokens were lost or padded</h3>${body}${skipped}`);
}

/** Where every token went: flow charts and tables per source and per cell (the manifest's numbers). */
export async function tokensSection(manifest: Manifest): Promise<string> {
  const sources = orderedSources(manifest).map(([name, a]) => {
    const s = cellSums(a);
    return [
      name,
      a.window,
      a.read.documents,
      a.read.tokens,
      a.placed.tokens,
      s.repeated,
      a.dropped.too_short.tokens,
      a.dropped.too_long.tokens,
      a.dropped.outside_buckets.tokens,
      s.overBudget,
      s.truncated,
      s.lastBatch,
    ];
  });
  const cells = orderedSources(manifest).flatMap(([name, a]) =>
    a.cells.map((c) => [
      `${name} · ${c.bucket}`,
      `${fmt(c.min)}–${fmt(c.max)}`,
      c.plannedTokens === 'all' ? 'all' : c.plannedTokens,
      c.raisedTokens,
      c.available.tokens,
      c.achieved.tokens,
      c.placedTokens,
      c.repeatedTokens,
      c.dropped.over_budget.tokens,
      c.dropped.truncated.tokens,
      c.dropped.last_batch.tokens,
      c.splitDocuments,
      c.fillerTokens,
      c.padTokens,
    ]),
  );
  const t = manifest.totals;
  return section(
    'tokens',
    'Where every token went',
    [
      para(
        `Read ${fmt(t.tokensRead)} tokens = placed once ${fmt(t.tokensPlaced - t.tokensRepeated)} + too short ${fmt(t.tokensDropped.too_short)} + too long ${fmt(t.tokensDropped.too_long)} + outside buckets ${fmt(t.tokensDropped.outside_buckets)} + over budget ${fmt(t.tokensDropped.over_budget)} + truncated ${fmt(t.tokensDropped.truncated)} + last batch ${fmt(t.tokensDropped.last_batch)}; ${fmt(t.tokensRepeated)} tokens were placed again as repeats. Counts include BOS/EOS.`,
      ),
      figure(
        'chart-flow-sources',
        await renderSvg(flowChart(sourceFlows(manifest), 'Tokens read per source: placed or dropped by reason'), 'flow-sources'),
        'Per source: each bar is the tokens read, split by what happened to them (manifest sources.*).',
      ),
      `<div class="wide">${htmlTable(['source', 'window', 'docs read', 'tokens read', 'placed', 'repeated', 'too short', 'too long', 'outside buckets', 'over budget', 'truncated', 'last batch'], sources)}</div>`,
      figure(
        'chart-flow-cells',
        await renderSvg(flowChart(cellFlows(manifest), 'Tokens per cell: placed or dropped by reason'), 'flow-cells'),
        'Per cell (source × length bucket); tokens too short, too long or outside every bucket belong to no cell and have a bar of their own.',
      ),
      `<div class="wide">${htmlTable(
        [
          'cell',
          'range',
          'planned',
          'raised (fill)',
          'available',
          'achieved',
          'placed',
          'repeated',
          'over budget',
          'truncated',
          'last batch',
          'split docs',
          'as filler',
          'padding of rows it leads',
        ],
        cells,
        "The padding column is the padding of rows whose longest piece comes from the cell, not padding inside the cell's documents.",
      )}</div>`,
    ].join('\n'),
  );
}

/** The mix: planned vs achieved per cell, the share of each source, and the window classes' share of rows and tokens. */
export async function mixSection(manifest: Manifest, stats: RowStats): Promise<string> {
  const mix = cellMix(manifest);
  const { rowTokens } = manifest.geometry;
  const tokensIn = { long: 0, short: 0 };
  stats.rows.window.forEach((w, i) => (tokensIn[w] += rowTokens - stats.rows.padTokens[i]));
  const shares = [
    { what: 'rows', window: 'long' as const, count: manifest.rows.long },
    { what: 'rows', window: 'short' as const, count: manifest.rows.short },
    { what: 'document tokens', window: 'long' as const, count: tokensIn.long },
    { what: 'document tokens', window: 'short' as const, count: tokensIn.short },
  ];
  const placed = manifest.totals.tokensPlaced;
  const bySource = orderedSources(manifest).map(([name, a]) => {
    const planned = a.cells.every((c) => c.plannedTokens !== 'all') ? a.cells.reduce((s, c) => s + (c.plannedTokens as number) + c.raisedTokens, 0) : 'all';
    const filler = a.cells.reduce((s, c) => s + c.fillerTokens, 0);
    return [name, a.window, planned, a.placed.tokens, pct(a.placed.tokens, placed), filler];
  });
  return section(
    'mix',
    'The mix',
    [
      figure(
        'chart-mix',
        await renderSvg(mixChart(mix), 'mix'),
        'Per cell: the plan (budgets "all" have none), what the cell held, what was selected (at most one document over the plan), and what is in the kept rows.',
      ),
      htmlTable(['source', 'window', 'planned', 'placed', 'share of placed tokens', 'of which filler in long rows'], bySource),
      figure(
        'chart-windows',
        await renderSvg(windowShareChart(shares), 'windows'),
        `Window classes: ${plural(manifest.rows.long, 'long row')} (a piece longer than the original window of ${fmt(manifest.geometry.originalWindowTokens)} tokens: the trainer switches to rescaled RoPE) and ${plural(manifest.rows.short, 'short row')}${manifest.geometry.longRowFiller !== null && manifest.rows.long > 0 ? `; long rows also carry the filler "${manifest.geometry.longRowFiller}"` : ''}.`,
      ),
    ].join('\n'),
  );
}
