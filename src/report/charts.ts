/**
 * The report's charts as Vega-Lite specifications (https://vega.github.io/vega-lite/), pure data:
 * {@link renderSvg} (./render.ts) turns each into SVG at build time. Colours are fixed per
 * category, so the same category has the same colour in every chart and every build.
 */
import type { TopLevelSpec } from 'vega-lite';
import { FLOW_SEGMENTS, SEGMENT_LABELS, type CellMix, type FlowPart } from './flows.ts';
import type { SourceLengths } from './rowStats.ts';

/** Colour of each window class. */
const WINDOW_SCALE = { domain: ['long', 'short'], range: ['#4c78a8', '#f58518'] };
const SEGMENT_COLORS = ['#4c78a8', '#9ecae9', '#f58518', '#ffbf79', '#9d755d', '#eeca3b', '#e45756', '#b279a2'];
const BUCKET_COLORS = ['#54a24b', '#4c78a8', '#b279a2', '#ff9da6', '#9d755d', '#72b7b2', '#bab0ac'];
const WIDTH = 620;

const CONFIG = {
  background: 'white',
  font: 'sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 11, labelLimit: 260 },
  legend: { orient: 'bottom', labelFontSize: 11, titleFontSize: 11, labelLimit: 260 },
  title: { fontSize: 13, anchor: 'start' },
} as const;

function spec(description: string, body: Record<string, unknown>): TopLevelSpec {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', description, config: CONFIG, ...body } as TopLevelSpec;
}

/** An axis of whole counts: integer ticks only. */
const COUNT_AXIS = { tickMinStep: 1, format: 'd' };

/** Height of a horizontal bar chart with `bars` bars. */
const barsHeight = (bars: number) => Math.max(40, 22 * bars);

/**
 * Where the tokens went: one horizontal stacked bar per source (or cell), tokens by segment.
 * @param parts - from {@link import('./flows.ts').sourceFlows} or `cellFlows`.
 */
export function flowChart(parts: readonly FlowPart[], description: string): TopLevelSpec {
  const bars = [...new Set(parts.map((p) => p.bar))];
  const labels = FLOW_SEGMENTS.map((s) => SEGMENT_LABELS[s]);
  return spec(description, {
    width: WIDTH,
    height: barsHeight(bars.length),
    data: { values: parts.map((p) => ({ bar: p.bar, segment: SEGMENT_LABELS[p.segment], order: FLOW_SEGMENTS.indexOf(p.segment), tokens: p.tokens })) },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'bar', type: 'nominal', sort: bars, title: null },
      x: { field: 'tokens', type: 'quantitative', stack: 'zero', title: 'tokens (BOS/EOS included)' },
      color: { field: 'segment', type: 'nominal', scale: { domain: labels, range: SEGMENT_COLORS }, title: null },
      order: { field: 'order', type: 'quantitative' },
    },
  });
}

/** Planned vs achieved vs placed tokens per cell (planned left out for budgets "all"). */
export function mixChart(cells: readonly CellMix[]): TopLevelSpec {
  const values = cells.flatMap((c) => [
    ...(c.plannedTokens === null ? [] : [{ cell: c.cell, measure: 'planned', tokens: c.plannedTokens }]),
    { cell: c.cell, measure: 'available', tokens: c.availableTokens },
    { cell: c.cell, measure: 'achieved (selected)', tokens: c.achievedTokens },
    { cell: c.cell, measure: 'placed in rows', tokens: c.placedTokens },
  ]);
  const measures = ['planned', 'available', 'achieved (selected)', 'placed in rows'];
  return spec('Planned, available, achieved and placed tokens per cell', {
    width: WIDTH,
    height: { step: 9 },
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'cell', type: 'nominal', sort: cells.map((c) => c.cell), title: null },
      yOffset: { field: 'measure', type: 'nominal', sort: measures },
      x: { field: 'tokens', type: 'quantitative', title: 'tokens' },
      color: { field: 'measure', type: 'nominal', scale: { domain: measures, range: ['#bab0ac', '#dddddd', '#72b7b2', '#4c78a8'] }, title: null },
    },
  });
}

/** Share of rows and of row tokens by window class (100% stacked bars). */
export function windowShareChart(values: readonly { what: string; window: 'long' | 'short'; count: number }[]): TopLevelSpec {
  return spec('Share of rows and of document tokens by window class', {
    width: WIDTH,
    height: barsHeight(2),
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'what', type: 'nominal', title: null, sort: null },
      x: { field: 'count', type: 'quantitative', stack: 'normalize', title: 'share', axis: { format: '%' } },
      color: { field: 'window', type: 'nominal', scale: WINDOW_SCALE, title: 'window' },
    },
  });
}

/**
 * A source's document length histogram on a log scale, coloured by cell, with its bucket edges,
 * the original window and the row length drawn as rules.
 */
export function lengthChart(lengths: SourceLengths, marks: readonly { at: number; label: string }[]): TopLevelSpec {
  const lo = Math.min(...lengths.bins.map((b) => b.start), ...marks.map((m) => m.at));
  const hi = Math.max(...lengths.bins.map((b) => b.end), ...marks.map((m) => m.at));
  const x = { type: 'quantitative', scale: { type: 'log', domain: [Math.max(1, lo / 1.2), hi * 1.2] }, title: 'document length, tokens (log scale)' };
  const buckets = [...new Set(lengths.bins.map((b) => b.bucket))];
  return spec(`Document lengths of ${lengths.source}`, {
    width: WIDTH,
    height: 140,
    title: `${lengths.source}: ${lengths.uses.toLocaleString('en-US')} placed document use${lengths.uses === 1 ? '' : 's'}`,
    layer: [
      {
        // Bins of different cells may share an x range (a bucket edge inside a bin): stacked.
        data: { values: lengths.bins.map((b) => ({ ...b, order: buckets.indexOf(b.bucket) })) },
        transform: [{ stack: 'documents', groupby: ['start'], sort: [{ field: 'order' }], as: ['low', 'high'] }],
        mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: { field: 'start', ...x },
          x2: { field: 'end' },
          y: { field: 'high', type: 'quantitative', title: 'documents', axis: COUNT_AXIS },
          y2: { field: 'low' },
          color: { field: 'bucket', type: 'nominal', title: 'cell (bucket)', scale: { domain: buckets, range: BUCKET_COLORS } },
        },
      },
      {
        data: { values: marks },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#333' },
        encoding: { x: { field: 'at', ...x } },
      },
      {
        data: { values: marks },
        mark: { type: 'text', angle: 270, align: 'right', baseline: 'bottom', dx: -4, dy: -2, fontSize: 10, color: '#333' },
        encoding: { x: { field: 'at', ...x }, y: { value: 0 }, text: { field: 'label' } },
      },
    ],
  });
}

/** Rows per bin of a per-row count (padding, filler, pieces), stacked by window class. */
export function rowCountChart(values: readonly { start: number; end: number; window: string; rows: number }[], xTitle: string): TopLevelSpec {
  const labelled = values.map((v) => ({ ...v, bin: v.end - v.start === 1 ? String(v.start) : `${v.start}–${v.end - 1}` }));
  const order = [...new Map(labelled.toSorted((a, b) => a.start - b.start).map((v) => [v.bin, v.start])).keys()];
  return spec(`Rows by ${xTitle}`, {
    width: Math.min(WIDTH, Math.max(160, 34 * order.length)),
    height: 150,
    data: { values: labelled },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'bin', type: 'ordinal', sort: order, title: xTitle, axis: { labelAngle: -40 } },
      y: { field: 'rows', type: 'quantitative', title: 'rows', stack: 'zero', axis: COUNT_AXIS },
      color: { field: 'window', type: 'nominal', scale: WINDOW_SCALE, title: 'window' },
    },
  });
}

/** Long and short rows per training step, in step order. */
export function scheduleChart(values: readonly { step: number; window: 'long' | 'short'; rows: number }[], globalBatchRows: number): TopLevelSpec {
  return spec('Long and short rows in every global batch (training step)', {
    width: WIDTH,
    height: 150,
    data: { values },
    transform: [{ calculate: 'datum.step + 1', as: 'stepEnd' }],
    mark: { type: 'rect', stroke: 'white', strokeWidth: values.length > 600 ? 0 : 0.5 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step (global batch)', axis: { tickMinStep: 1, format: 'd' } },
      x2: { field: 'stepEnd' },
      y: { field: 'rows', type: 'quantitative', stack: 'zero', title: `rows (of ${globalBatchRows})`, scale: { domain: [0, globalBatchRows] } },
      color: { field: 'window', type: 'nominal', scale: WINDOW_SCALE, title: 'window' },
    },
  });
}

/** Rows each rank reads, by window class. */
export function rankChart(values: readonly { rank: number; window: 'long' | 'short'; rows: number }[]): TopLevelSpec {
  const ranks = new Set(values.map((v) => v.rank)).size;
  return spec('Rows per data-parallel rank by window class', {
    width: Math.min(WIDTH, Math.max(120, 28 * ranks)),
    height: 150,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'rank', type: 'ordinal', title: 'rank' },
      y: { field: 'rows', type: 'quantitative', stack: 'zero', title: 'rows', axis: COUNT_AXIS },
      color: { field: 'window', type: 'nominal', scale: WINDOW_SCALE, title: 'window' },
    },
  });
}

/** Wall time per phase of the build, seconds. */
export function timingChart(phases: readonly { phase: string; seconds: number }[]): TopLevelSpec {
  return spec('Wall time per build phase', {
    width: WIDTH,
    height: barsHeight(phases.length),
    data: { values: phases.map((p, i) => ({ ...p, order: i })) },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      y: { field: 'phase', type: 'nominal', sort: phases.map((p) => p.phase), title: null },
      x: { field: 'seconds', type: 'quantitative', title: 'seconds' },
    },
  });
}
