/**
 * `report.html`: one self-contained page (inline CSS and SVG, no script, nothing fetched at view
 * time) that shows a finished build, made only from its manifest and its shards: where every
 * token went, the mix, document lengths per cell, row fill, the schedule and the build itself.
 * Charts are Vega-Lite specs rendered to SVG here (./render.ts). Same manifest, shards and
 * timings ⇒ byte-identical page: it holds no clock, no absolute path, no random id.
 *
 * Cost: one pass over the shards (each read whole, one at a time: memory is one shard plus three
 * numbers per row), then about a dozen charts.
 */
import { buildSha256 } from '../manifest/identity.ts';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomicFile.ts';
import { PipelineError } from '../core/errors.ts';
import type { Manifest } from '../manifest/types.ts';
import { readShardBytes, shardRows } from '../shard/reader.ts';
import { fmt, plural } from './explain.ts';
import { page, REPORT_GENERATOR } from './html.ts';
import { RowStatsCollector, type RowStats } from './rowStats.ts';
import { buildSection, fillSection, lengthsSection, scheduleSection, type BuildTimings } from './sectionsRows.ts';
import { mixSection, summarySection, tokensSection } from './sectionsTokens.ts';

export type { BuildTimings };

/** File name of the report inside a build directory, beside `manifest.json`. */
export const REPORT_FILE = 'report.html';

/** Options of a report. */
export interface ReportOptions {
  /** Wall time per phase and throughput, from the executor that ran the build; absent for a report of a finished build. */
  timings?: BuildTimings;
}

const SECTIONS = [
  { id: 'summary', heading: 'Summary' },
  { id: 'tokens', heading: 'Where tokens went' },
  { id: 'mix', heading: 'Mix' },
  { id: 'lengths', heading: 'Document lengths' },
  { id: 'fill', heading: 'Row fill' },
  { id: 'schedule', heading: 'Schedule' },
  { id: 'build', heading: 'Build' },
];

/**
 * Reads every shard the manifest lists (`shards[].file`, in index order) and gathers the rows' statistics.
 * @throws InvariantError naming the shard when one cannot be parsed.
 */
export async function collectRowStats(dir: string, manifest: Manifest): Promise<RowStats> {
  const collector = new RowStatsCollector(manifest);
  for (const shard of manifest.shards) {
    const bytes = await readShardBytes(path.join(dir, shard.file));
    for (const row of shardRows(bytes, shard.file)) collector.add(row);
  }
  return collector.finish();
}

/**
 * The report page of a build.
 * @param stats - from {@link collectRowStats} over the same build.
 * @returns the HTML text (UTF-8).
 * @throws InvariantError when a chart cannot be rendered.
 */
export async function renderReport(manifest: Manifest, stats: RowStats, options: ReportOptions = {}): Promise<string> {
  const g = manifest.geometry;
  const sections = [
    summarySection(manifest),
    await tokensSection(manifest),
    await mixSection(manifest, stats),
    await lengthsSection(manifest, stats),
    await fillSection(manifest, stats),
    await scheduleSection(manifest, stats),
    await buildSection(manifest, options.timings),
  ];
  const subtitle = `${plural(manifest.rows.total, 'row')} of ${fmt(g.rowTokens)} tokens (original window ${fmt(g.originalWindowTokens)}), ${plural(manifest.shards.length, 'shard')} · recipe sha256 ${manifest.recipe.hash.slice(0, 12)} · ${manifest.tool.name} ${manifest.tool.version}`;
  return page(`longmix build report: ${manifest.recipe.name}`, subtitle, SECTIONS, sections, buildSha256(manifest));
}

/**
 * Refuses to replace a `report.html` that longmix did not write (a user's file is theirs): the
 * first 1 KiB of a longmix report holds its generator mark.
 * @throws PipelineError naming the file.
 */
export async function assertReplaceable(file: string): Promise<void> {
  let head: string;
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      head = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!head.includes(`<meta name="generator" content="${REPORT_GENERATOR}">`))
    throw new PipelineError(`${file} exists and is not a longmix report; move it away to write the report`, { file });
}

/**
 * Writes `<dir>/report.html` for the build in `dir` (atomically: a reader sees the old page or the
 * new one); a previous longmix report there is replaced, any other file of that name is refused.
 * @param manifest - the build's manifest (the caller has it: a build that just committed, or `readManifest(dir)`).
 * @returns the file written and its size in bytes.
 * @throws PipelineError when report.html exists and is not a longmix report; InvariantError when a
 *   shard cannot be read or a chart rendered; file-system errors as Node raises them.
 */
export async function writeReport(dir: string, manifest: Manifest, options: ReportOptions = {}): Promise<{ file: string; sizeBytes: number }> {
  const file = path.join(dir, REPORT_FILE);
  await assertReplaceable(file);
  const html = await renderReport(manifest, await collectRowStats(dir, manifest), options);
  await writeFileAtomic(file, html);
  return { file, sizeBytes: Buffer.byteLength(html) };
}
