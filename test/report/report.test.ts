import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineError } from '../../src/core/errors.ts';
import type { BuildResult } from '../../src/run/build.ts';
import { collectRowStats, REPORT_FILE, renderReport, writeReport, type BuildTimings } from '../../src/report/index.ts';
import { buildInTemp, removeTempDirs } from '../helpers/build.ts';

const SAMPLE = fileURLToPath(new URL('../../pipelines/sample.yaml', import.meta.url));
const TIMINGS: BuildTimings = {
  phases: [
    { phase: 'read + tokenize', seconds: 1.25 },
    { phase: 'plan', seconds: 0.05 },
    { phase: 'write', seconds: 0.4 },
  ],
  throughput: [{ label: 'read + tokenize', value: 113_138.4, unit: 'tokens/s' }],
};

let one: BuildResult;
let two: BuildResult;
beforeAll(async () => {
  one = await buildInTemp(SAMPLE, 1);
  two = await buildInTemp(SAMPLE, 2);
});
afterAll(removeTempDirs);

const tableRow = (cells: (string | number)[]) =>
  `<tr>${cells.map((c) => (typeof c === 'number' ? `<td class="num">${c.toLocaleString('en-US')}</td>` : `<td>${c}</td>`)).join('')}</tr>`;

describe('report.html of the default build', () => {
  it('is byte-identical for two builds of the same recipe and inputs, given the same timings', async () => {
    const a = await writeReport(one.outDir, one.manifest, { timings: TIMINGS });
    const b = await writeReport(two.outDir, two.manifest, { timings: TIMINGS });
    expect(a.file).toBe(path.join(one.outDir, REPORT_FILE));
    const [htmlA, htmlB] = [await readFile(a.file), await readFile(b.file)];
    expect(htmlA.equals(htmlB)).toBe(true);
    expect(htmlA.length).toBe(a.sizeBytes);
    // Written again over its own previous report: the same bytes.
    await writeReport(one.outDir, one.manifest, { timings: TIMINGS });
    expect((await readFile(a.file)).equals(htmlA)).toBe(true);
  });

  it('is self-contained: no script, nothing fetched, no absolute path', async () => {
    const html = await renderReport(one.manifest, await collectRowStats(one.outDir, one.manifest), { timings: TIMINGS });
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html).not.toMatch(/<script|<link rel="stylesheet"|<img |@import/);
    expect([...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]).filter((u) => !u.startsWith('#') && !u.startsWith('data:'))).toEqual([]);
    expect(html).not.toContain(one.outDir);
    // Charts: two token flows, mix, window shares, one length histogram per source, padding,
    // pieces, filler, schedule, ranks, timings.
    expect(html.match(/<figure class="chart" id="([^"]+)">/g)!.map((f) => f.slice(26, -2))).toEqual([
      'chart-flow-sources',
      'chart-flow-cells',
      'chart-mix',
      'chart-windows',
      'chart-lengths-0',
      'chart-lengths-1',
      'chart-lengths-2',
      'chart-lengths-3',
      'chart-lengths-4',
      'chart-padding',
      'chart-pieces',
      'chart-filler',
      'chart-schedule',
      'chart-ranks',
      'chart-timings',
    ]);
    expect(html.match(/<svg /g)).toHaveLength(15);
  });

  it("shows the manifest's numbers: token flow, tables, padding, and why tokens were dropped", async () => {
    const m = one.manifest;
    const html = await renderReport(m, await collectRowStats(one.outDir, m));
    expect(html).toContain(
      'Read 141,364 tokens = placed once 114,422 + too short 1,133 + too long 1,353 + outside buckets 0 + over budget 24,456 + truncated 0 + last batch 0; 0 tokens were placed again as repeats.',
    );
    expect(html).toContain('<div class="kpi"><b>0.23%</b><span>padding (266 tokens)</span></div>');
    for (const [name, a] of Object.entries(m.sources)) {
      const c = a.cells;
      const sum = (f: (x: (typeof c)[number]) => number) => c.reduce((s, x) => s + f(x), 0);
      expect(html).toContain(
        tableRow([
          name,
          a.window,
          a.read.documents,
          a.read.tokens,
          a.placed.tokens,
          0,
          a.dropped.too_short.tokens,
          a.dropped.too_long.tokens,
          a.dropped.outside_buckets.tokens,
          sum((x) => x.dropped.over_budget.tokens),
          0,
          0,
        ]),
      );
    }
    expect(html).toContain(
      '<li>24,456 tokens of papers, web, edu were not selected: the budgets (budgetTokens) were met without them; a larger budget uses them.</li>',
    );
    expect(html).toContain('Timings: left out of this page so that a rebuild gives the same bytes.');
    expect(html).toContain('22 long rows (a piece longer than the original window of 512 tokens');
  });

  it('reads every row of the shards: padding, filler, pieces and document uses agree with the manifest', async () => {
    const m = one.manifest;
    const stats = await collectRowStats(one.outDir, m);
    const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
    expect(stats.rows.window.filter((w) => w === 'long')).toHaveLength(22);
    expect(sum(stats.rows.padTokens)).toBe(266);
    expect(sum(stats.rows.fillerTokens)).toBe(4810);
    expect(sum(stats.rows.pieces)).toBe(213);
    expect(stats.splitUses).toEqual({ papers: 0, books: 1, web: 0, code: 0, edu: 0 });
    // One use per selected document (nothing repeated, nothing dropped from the last batch), in
    // the bucket the manifest counted it in.
    for (const lengths of stats.lengths) {
      const cells = m.sources[lengths.source].cells;
      expect(lengths.incompleteUses).toBe(0);
      expect(lengths.uses).toBe(cells.reduce((s, c) => s + c.achieved.documents, 0));
      for (const c of cells) expect(lengths.bins.filter((b) => b.bucket === c.bucket).reduce((s, b) => s + b.documents, 0)).toBe(c.achieved.documents);
    }
    expect(stats.lengths.map((l) => l.source)).toEqual(['papers', 'books', 'web', 'code', 'edu']);
  });

  it('refuses to replace a report.html that longmix did not write', async () => {
    const file = path.join(two.outDir, REPORT_FILE);
    await writeFile(file, '<html>my own notes</html>');
    const error = await writeReport(two.outDir, two.manifest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PipelineError);
    expect((error as Error).message).toBe(`${file} exists and is not a longmix report; move it away to write the report`);
    expect(await readFile(file, 'utf8')).toBe('<html>my own notes</html>');
  });
});
