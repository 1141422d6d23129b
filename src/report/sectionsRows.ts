/**
 * The report's later sections, from the shards' rows and the manifest: document lengths per
 * cell, row fill, the schedule, and the build itself (inputs, tokenizer, timings).
 */
import type { Manifest } from '../manifest/types.ts';
import { lengthChart, rankChart, rowCountChart, scheduleChart, timingChart } from './charts.ts';
import { fmt, plural } from './explain.ts';
import { orderedSources } from './flows.ts';
import { figure, htmlTable, para, section } from './html.ts';
import { renderSvg } from './render.ts';
import { countHistogram, type RowStats } from './rowStats.ts';

/** Wall time per phase and throughput of a build, as its executor measured them. */
export interface BuildTimings {
  /** Seconds per phase, in run order. */
  phases: readonly { phase: string; seconds: number }[];
  /** Throughput figures, each with its unit (e.g. `{ label: 'read + tokenize', value: 1.2e6, unit: 'tokens/s' }`). */
  throughput?: readonly { label: string; value: number; unit: string }[];
}

/** Vertical marks for a length chart: each bucket's closed edges (≥ min, ≤ max), the original window, the row length; marks closer than 3% merge. */
function lengthMarks(manifest: Manifest, source: string): { at: number; label: string }[] {
  const cells = manifest.sources[source]?.cells ?? [];
  const name = (bucket: string) => (cells.length > 1 ? `${bucket} ` : '');
  const raw = [
    ...cells.flatMap((c) => [
      { at: c.min, label: `${name(c.bucket)}≥ ${fmt(c.min)}` },
      { at: c.max, label: `${name(c.bucket)}≤ ${fmt(c.max)}` },
    ]),
    { at: manifest.geometry.originalWindowTokens, label: `window ${fmt(manifest.geometry.originalWindowTokens)}` },
    { at: manifest.geometry.rowTokens, label: `row ${fmt(manifest.geometry.rowTokens)}` },
  ].sort((a, b) => a.at - b.at);
  const merged: { at: number; label: string }[] = [];
  for (const m of raw) {
    const last = merged[merged.length - 1];
    if (last && m.at <= last.at * 1.03) last.label = `${last.label} / ${m.label}`;
    else merged.push({ ...m });
  }
  return merged;
}

/** Document length distributions per source, coloured by cell. */
export async function lengthsSection(manifest: Manifest, stats: RowStats): Promise<string> {
  const charts: string[] = [];
  for (const [i, lengths] of stats.lengths.entries()) {
    if (lengths.uses === 0) {
      charts.push(para(`${lengths.source}: no document placed.`, 'muted'));
      continue;
    }
    const svg = await renderSvg(lengthChart(lengths, lengthMarks(manifest, lengths.source)), `lengths-${i}`);
    const incomplete = lengths.incompleteUses ? `; ${fmt(lengths.incompleteUses)} split uses had parts in dropped rows and show their kept length` : '';
    charts.push(figure(`chart-lengths-${i}`, svg, `${lengths.source} (${manifest.sources[lengths.source]?.window ?? ''} window)${incomplete}.`));
  }
  return section(
    'lengths',
    'Document lengths per cell',
    [
      para(
        'Each count is one placed use of a document (a repeat counts again); its length is the sum of its pieces in the shards (piece_lens, joined by piece_doc_id, piece_repeat and piece_parts), BOS/EOS included, in bins of a quarter octave. Truncated documents count with their kept length. Documents read but not selected are not in the shards and not drawn: the tables above count them (available vs achieved). Dashed lines: bucket edges (closed ranges), the original window and the row length.',
        'muted',
      ),
      ...charts,
    ].join('\n'),
  );
}

/** Row fill: padding, filler and pieces per row, and split documents. */
export async function fillSection(manifest: Manifest, stats: RowStats): Promise<string> {
  const { rows } = stats;
  const filler = manifest.geometry.longRowFiller;
  const longIdx = rows.window.flatMap((w, i) => (w === 'long' ? [i] : []));
  const full = rows.padTokens.filter((p) => p === 0).length;
  const parts = [
    para(
      `${fmt(full)} of ${plural(rows.window.length, 'row')} ${full === 1 ? 'holds' : 'hold'} no padding; padding in all: ${fmt(manifest.rows.padTokens)} tokens. Pieces: ${fmt(manifest.rows.pieces)} in ${plural(manifest.rows.total, 'row')}.`,
    ),
    '<div class="grid">',
    figure(
      'chart-padding',
      await renderSvg(rowCountChart(countHistogram(rows.padTokens, rows.window), 'padding tokens per row'), 'padding'),
      'Padding tokens per row (0 in a bin of its own, then quarter-octave bins).',
    ),
    figure(
      'chart-pieces',
      await renderSvg(rowCountChart(countHistogram(rows.pieces, rows.window), 'pieces per row'), 'pieces'),
      'Pieces (documents or parts of documents) per row.',
    ),
  ];
  if (filler !== null && longIdx.length > 0) {
    const values = countHistogram(
      longIdx.map((i) => rows.fillerTokens[i]),
      longIdx.map(() => 'long' as const),
    );
    parts.push(
      figure(
        'chart-filler',
        await renderSvg(rowCountChart(values, `tokens of "${filler}" filler per long row`), 'filler'),
        `Filler from "${filler}" in each long row.`,
      ),
    );
  } else if (manifest.rows.long > 0) parts.push(para('No longRowFiller: long rows hold only long-source pieces.', 'muted'));
  parts.push('</div>');
  const split = orderedSources(manifest).map(([name, a]) => [name, a.cells.reduce((s, c) => s + c.splitDocuments, 0), stats.splitUses[name] ?? 0]);
  parts.push(
    htmlTable(
      ['source', 'split documents (manifest)', 'split uses found in rows'],
      split,
      'Documents longer than a row (long) or the window (short) are split into pieces; positions restart at 0 in each.',
    ),
  );
  return section('fill', 'Row fill', parts.join('\n'));
}

/** The schedule: long vs short rows per step, rows per rank, the shards. */
export async function scheduleSection(manifest: Manifest, stats: RowStats): Promise<string> {
  const G = manifest.schedule.globalBatchRows;
  const perStep = new Map<string, number>();
  stats.rows.window.forEach((w, i) => perStep.set(`${Math.floor(i / G)}\0${w}`, (perStep.get(`${Math.floor(i / G)}\0${w}`) ?? 0) + 1));
  const steps = [...perStep.entries()]
    .map(([key, rows]) => ({ step: Number(key.split('\0')[0]), window: key.split('\0')[1] as 'long' | 'short', rows }))
    .sort((a, b) => a.step - b.step || a.window.localeCompare(b.window));
  const ranks = new Map<string, number>();
  for (const s of manifest.shards) {
    ranks.set(`${s.rank}\0long`, (ranks.get(`${s.rank}\0long`) ?? 0) + s.longRows);
    ranks.set(`${s.rank}\0short`, (ranks.get(`${s.rank}\0short`) ?? 0) + s.shortRows);
  }
  const rankValues = [...ranks.entries()].map(([key, rows]) => ({ rank: Number(key.split('\0')[0]), window: key.split('\0')[1] as 'long' | 'short', rows }));
  const shown = manifest.shards.slice(0, 200).map((s) => [s.file, s.rank, s.rows, s.longRows, s.shortRows, s.tokens, s.padTokens, s.sizeBytes]);
  return section(
    'schedule',
    'Schedule',
    [
      figure(
        'chart-schedule',
        await renderSvg(scheduleChart(steps, G), 'schedule'),
        `${plural(manifest.schedule.steps, 'step')} of ${plural(G, 'row')} (row_id = step × ${fmt(G)} + slot); every step carries the mix's share of long rows as closely as whole rows allow.`,
      ),
      figure(
        'chart-ranks',
        await renderSvg(rankChart(rankValues), 'ranks'),
        `Rows each data-parallel rank reads (${plural(manifest.schedule.worldSize, 'rank')}; from the manifest's shards).`,
      ),
      `<div class="wide">${htmlTable(['shard', 'rank', 'rows', 'long', 'short', 'tokens', 'padding', 'bytes'], shown, manifest.shards.length > 200 ? `First 200 of ${fmt(manifest.shards.length)} shards.` : undefined)}</div>`,
    ].join('\n'),
  );
}

/** The build itself: identity, tokenizer, geometry, inputs, and timings when given. */
export async function buildSection(manifest: Manifest, timings?: BuildTimings): Promise<string> {
  const g = manifest.geometry;
  const tk = manifest.tokenizer;
  const identity = htmlTable(
    ['what', 'value'],
    [
      ['tool', `${manifest.tool.name} ${manifest.tool.version}`],
      ['recipe', `${manifest.recipe.name} (sha256 ${manifest.recipe.hash})`],
      ['tokenizer', `${tk.name}: vocab ${fmt(tk.vocabSize)}, BOS ${tk.bosId}, EOS ${tk.eosId}, pad ${tk.padId}`],
      ['vocabulary', `${tk.vocabularySource} (sha256 ${tk.vocabularySha256})`],
      ['rows', `${fmt(g.rowTokens)} tokens; original window ${fmt(g.originalWindowTokens)}; long rows ${g.longRowAttention} attention`],
      [
        'packing',
        `long docs ${g.longDocPolicy}, short docs ${g.shortDocPolicy}; best-fit buffer ${fmt(g.bufferTokens)} tokens; filler ${g.longRowFiller ?? 'none'}`,
      ],
    ],
  );
  const perSource = orderedSources(manifest)
    .map(([n]) => n)
    .map((name) => {
      const files = manifest.inputs.filter((i) => i.source === name);
      return [name, files.length, files.reduce((s, i) => s + i.sizeBytes, 0)];
    });
  const inputs = manifest.inputs.slice(0, 200).map((i) => [i.source, i.path, i.sizeBytes, i.sha256 ?? `etag ${i.etag ?? 'none'}`]);
  const parts = [
    identity,
    htmlTable(['source', 'input files', 'bytes'], perSource),
    `<div class="wide mono">${htmlTable(['source', 'path', 'bytes', 'sha256'], inputs, manifest.inputs.length > 200 ? `First 200 of ${fmt(manifest.inputs.length)} inputs.` : undefined)}</div>`,
  ];
  if (timings && timings.phases.length) {
    const total = timings.phases.reduce((s, p) => s + p.seconds, 0);
    parts.push(figure('chart-timings', await renderSvg(timingChart(timings.phases), 'timings'), `Wall time per phase: ${total.toFixed(1)} s in all.`));
    if (timings.throughput?.length)
      parts.push(
        htmlTable(
          ['throughput', 'value', 'unit'],
          timings.throughput.map((t) => [t.label, Math.round(t.value), t.unit]),
        ),
      );
  } else
    parts.push(
      para(
        "Timings: left out of this page so that a rebuild gives the same bytes. The build prints them (its stages line); pnpm pipeline report DIR --timings writes the page with the last local run's.",
        'muted',
      ),
    );
  return section('build', 'The build', parts.join('\n'));
}
