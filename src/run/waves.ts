/**
 * Early stop under Slurm: the census is submitted in waves. A wave takes, from each source whose
 * prefix is not known yet (./earlyStop.ts), its next units in read order that are not done; a
 * one-CPU controller job after the wave reads the records and submits the next wave, or, once
 * every source's prefix is known, the plan, write and commit jobs. So at most one wave is read past
 * a source's prefix. The submission's options are kept in `<work>/slurm/options.json` for the
 * controllers; wave k's units in `<work>/slurm/census-wave-<k>.json`.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../core/errors.ts';
import { readOrder, sourcePrefix } from './earlyStop.ts';
import { readAttemptRecords } from './records.ts';
import type { RunRecord } from './runRecord.ts';
import { afterCensusJobs, submitJobs, waveJobs, waveUnitsPerSource, type SlurmOptions } from './slurm.ts';
import { censusAvailable, stageDir, unitName } from './stages.ts';

const slurmDir = (run: RunRecord) => path.join(run.workDir, 'slurm');
const waveFile = (run: RunRecord, wave: number) => path.join(slurmDir(run), `census-wave-${wave}.json`);

/** Keeps the submission's options for the controllers. */
export async function saveSlurmOptions(run: RunRecord, options: SlurmOptions): Promise<void> {
  await mkdir(slurmDir(run), { recursive: true });
  await writeFile(path.join(slurmDir(run), 'options.json'), JSON.stringify(options, null, 2) + '\n');
}

async function loadSlurmOptions(run: RunRecord): Promise<SlurmOptions> {
  return JSON.parse(await readFile(path.join(slurmDir(run), 'options.json'), 'utf8')) as SlurmOptions;
}

/**
 * Chooses wave `wave`'s census units from the records (see the file header) and writes them down.
 * @returns the units; empty when every source's prefix is known.
 */
export async function planWave(run: RunRecord, tasks: number, wave: number): Promise<number[]> {
  const available = new Map<number, number[]>();
  for (let i = 0; i < run.census.length; i++) {
    const cells = await censusAvailable(run, i);
    if (cells) available.set(i, cells);
  }
  const open = run.recipe.sources.filter((s) => sourcePrefix(run, s.name, (u) => available.get(u) ?? null).used === null);
  const perSource = waveUnitsPerSource(tasks, open.length);
  const units: number[] = [];
  for (const s of open) {
    const pending = readOrder(run, s.name).filter((u) => !available.has(u));
    const prefix = sourcePrefix(run, s.name, (u) => available.get(u) ?? null);
    units.push(...(prefix.targets === null ? pending : pending.slice(0, perSource)));
  }
  await mkdir(slurmDir(run), { recursive: true });
  await writeFile(waveFile(run, wave), JSON.stringify({ wave, units }) + '\n');
  return units;
}

/** Wave `wave`'s census units, as written when it was submitted. */
export async function waveUnits(run: RunRecord, wave: number): Promise<number[]> {
  try {
    return (JSON.parse(await readFile(waveFile(run, wave), 'utf8')) as { units: number[] }).units;
  } catch (error) {
    throw new PipelineError(`${waveFile(run, wave)}: no such census wave; submit the build with build-mix --executor slurm`, { wave }, { cause: error });
  }
}

/**
 * The controller of wave `wave`: when every unit of the wave is done, submits the next wave (or
 * the jobs after the census); otherwise fails, naming the units that are not done and their errors.
 * @returns what it submitted.
 */
export async function controlWave(run: RunRecord, wave: number): Promise<string> {
  const missing: string[] = [];
  for (const u of await waveUnits(run, wave)) {
    if (await censusAvailable(run, u)) continue;
    const { failed } = await readAttemptRecords(stageDir(run, 'census'), unitName('census', u));
    missing.push(`${unitName('census', u)}${failed ? `: ${failed.error}` : ' (not done)'}`);
  }
  if (missing.length)
    throw new PipelineError(`census wave ${wave} did not finish: ${missing.join('; ')}. Fix it and run the same build-mix command again`, { wave });
  const options = await loadSlurmOptions(run);
  const next = await planWave(run, options.tasks, wave + 1);
  if (next.length) {
    const ids = await submitJobs(run, waveJobs(run, options, wave + 1, next.length));
    return `census wave ${wave + 1} (${next.length} units): jobs ${ids.join(', ')}`;
  }
  const ids = await submitJobs(run, afterCensusJobs(run, options));
  return `every source's prefix is known: plan, write and commit jobs ${ids.join(', ')}`;
}
