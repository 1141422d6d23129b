/**
 * `plan --estimate`: what the whole build will cost, projected from a small seeded sample. The
 * inputs are listed in full (sizes only); then the first `sampleUnits` census units of each
 * source's seeded read order (./earlyStop.ts: any prefix is a fair sample) are read and tokenized
 * as the build would, in a temporary work directory. Per source and cell it reports the observed
 * yield (in-cell tokens per unit and per GB of input as stored), the units and input bytes the
 * budgets need with the oversample margin, and whether the dataset holds that much at all; and
 * for the whole build: input bytes to read (download), documents to tokenize, core-hours at the
 * measured rate (the sampled units' wall time in one worker thread each, per input byte) and disk
 * for the token stores (4 bytes per in-cell token).
 *
 * Projections are means over the sample: a dataset whose files differ a lot (a few huge books
 * among short pages) needs a bigger sample (`--sample-units`). StarCoder sources grouped by
 * repository are not sampled (a repository may lie in any file): they are reported as read whole.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LoadedRecipe } from '../config/load.ts';
import { sourceCells, type CellSpec } from '../config/cells.ts';
import { buildTokenizerSpec } from '../tokenize/registry.ts';
import type { TokenizerSpec } from '../tokenize/tokenizer.ts';
import { readOrder } from './earlyStop.ts';
import { UnitPool, type StageProgress } from './pool.ts';
import { createRunRecord } from './runRecord.ts';
import { doneRecord, type CensusResult } from './stages.ts';
import { openRun } from './workDir.ts';

/** The projection for one cell (source × length bucket). Tokens include BOS/EOS. */
export interface CellEstimate {
  cell: CellSpec;
  /** In-cell tokens found in the sample. */
  sampleTokens: number;
  tokensPerUnit: number;
  tokensPerGB: number;
  /** Units the plan needs with the oversample margin (null: the yield is 0 or the budget is "all"). */
  unitsNeeded: number | null;
  /** In-cell tokens the whole dataset is projected to hold. */
  projectedTokens: number;
  /** Whether the dataset is projected to hold the plan with its margin. */
  enough: boolean;
}

/** The projection for one source. */
export interface SourceEstimate {
  source: string;
  units: number;
  datasetBytes: number;
  sampledUnits: number;
  sampledBytes: number;
  /** Units and input bytes the build is projected to read (every unit for a budget of "all"). */
  unitsToRead: number;
  bytesToRead: number;
  documentsToTokenize: number;
  coreHours: number;
  tokenStoreBytes: number;
  /** Why the source is not projected from a sample, if so. */
  note: string | null;
  cells: CellEstimate[];
}

/** The whole projection. */
export interface BuildEstimate {
  sources: SourceEstimate[];
  totals: { bytesToRead: number; documentsToTokenize: number; coreHours: number; tokenStoreBytes: number };
}

/**
 * Reads the sample and projects the build (see the file header).
 * @param sampleUnits - census units read per source, at least 1.
 * @throws InputError on unreadable inputs or a bad record under `onBadRecord: fail`.
 */
export async function estimateRecipe(
  loaded: LoadedRecipe,
  workers: number,
  sampleUnits: number,
  tokenizerSpec?: TokenizerSpec,
  onProgress?: (p: StageProgress & { totalInputBytes: number; totalRows: number }) => void,
): Promise<BuildEstimate> {
  const spec = tokenizerSpec ?? (await buildTokenizerSpec(loaded.recipe.tokenizer));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'longmix-estimate-'));
  try {
    const run = await createRunRecord(loaded, spec.identity, [], path.join(dir, 'out'), dir);
    await openRun(run, false);
    const grouped = new Set(run.census.filter((u) => u.partition).map((u) => u.source));
    const samples = new Map(run.recipe.sources.map((s) => [s.name, grouped.has(s.name) ? [] : readOrder(run, s.name).slice(0, sampleUnits)]));
    const units = [...samples.values()].flat();
    const unitBytes = (u: number) => run.census[u].inputs.reduce((s, i) => s + run.inputs[i].sizeBytes, 0);
    const totalInputBytes = units.reduce((s, u) => s + unitBytes(u), 0);
    const pool = new UnitPool(run, spec, workers);
    try {
      await pool.run('census', units, (p) => onProgress?.({ ...p, totalInputBytes, totalRows: 0 }), units.length);
    } finally {
      await pool.close();
    }
    const sources: SourceEstimate[] = [];
    for (const config of run.recipe.sources) {
      const all = run.census.flatMap((u, i) => (u.source === config.name ? [i] : []));
      const datasetBytes = run.inputs.filter((i) => i.source === config.name).reduce((s, i) => s + i.sizeBytes, 0);
      const cells = sourceCells(config, run.recipe.scale);
      const sample = samples.get(config.name)!;
      const cellTokens = cells.map(() => 0);
      let sampledBytes = 0;
      let documents = 0;
      let seconds = 0;
      for (const u of sample) {
        const result = (await doneRecord(run, 'census', u))!.result as CensusResult;
        result.counts.cells.forEach((c, i) => (cellTokens[i] += c.tokens));
        sampledBytes += unitBytes(u);
        documents += result.counts.read.documents;
        seconds += result.seconds;
      }
      const n = Math.max(1, sample.length);
      const cellEstimates: CellEstimate[] = cells.map((cell, i) => {
        const tokensPerUnit = cellTokens[i] / n;
        const target = cell.plannedTokens === 'all' ? null : cell.plannedTokens * config.oversample;
        const unitsNeeded = target === null || tokensPerUnit === 0 ? null : Math.ceil(target / tokensPerUnit);
        const projectedTokens = tokensPerUnit * all.length;
        return {
          cell,
          sampleTokens: cellTokens[i],
          tokensPerUnit,
          tokensPerGB: sampledBytes ? (cellTokens[i] / sampledBytes) * 1e9 : 0,
          unitsNeeded,
          projectedTokens,
          enough: target === null ? true : projectedTokens >= target,
        };
      });
      const readsAll = sample.length === 0 || cells.some((c) => c.plannedTokens === 'all') || cellEstimates.some((c) => c.unitsNeeded === null || !c.enough);
      const unitsToRead = readsAll ? all.length : Math.min(all.length, Math.max(...cellEstimates.map((c) => c.unitsNeeded ?? all.length)));
      const bytesToRead = all.length ? (datasetBytes * unitsToRead) / all.length : 0;
      const perByte = (x: number) => (sampledBytes ? (x / sampledBytes) * bytesToRead : 0);
      sources.push({
        source: config.name,
        units: all.length,
        datasetBytes,
        sampledUnits: sample.length,
        sampledBytes,
        unitsToRead,
        bytesToRead,
        documentsToTokenize: perByte(documents),
        coreHours: perByte(seconds) / 3600,
        tokenStoreBytes: perByte(4 * cellTokens.reduce((s, t) => s + t, 0)),
        note: grouped.has(config.name) ? 'StarCoder repositories: not sampled, read whole' : null,
        cells: cellEstimates,
      });
    }
    const sum = (f: (s: SourceEstimate) => number) => sources.reduce((t, s) => t + f(s), 0);
    return {
      sources,
      totals: {
        bytesToRead: sum((s) => s.bytesToRead),
        documentsToTokenize: sum((s) => s.documentsToTokenize),
        coreHours: sum((s) => s.coreHours),
        tokenStoreBytes: sum((s) => s.tokenStoreBytes),
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
