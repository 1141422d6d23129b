/**
 * `build-mix` on this machine (the local executor): the stages of ./stages.ts over a work
 * directory, census and write units on a pool of worker threads (./pool.ts), the plan on one of
 * them (so this thread stays free to answer signals), the commit here. A rerun of the same build
 * resumes: only units without a completion record run. Same recipe, inputs and tokenizer ⇒ the
 * same bytes, whatever the worker count and however often the build was interrupted.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LoadedRecipe } from '../config/load.ts';
import type { OutDirLock } from '../manifest/lock.ts';
import type { Manifest } from '../manifest/types.ts';
import { buildTokenizerSpec } from '../tokenize/registry.ts';
import type { TokenizerSpec } from '../tokenize/tokenizer.ts';
import { cleanWork, runCommit } from './commitStage.ts';
import { openOutDir, prepareOutDir, previousManifest, WORK_DIR_NAME } from './outDir.ts';
import { UnitPool, type StageProgress } from './pool.ts';
import { createRunRecord, type RunRecord } from './runRecord.ts';
import { censusAvailable, doneRecord, planResult, type StageName } from './stages.ts';
import { CensusQueue } from './earlyStop.ts';
import { openRun, readRunRecord, type RunState } from './workDir.ts';
import { assertFreeSpace, writeBytesEstimate } from './diskSpace.ts';

/** Counters reported while a build runs (for a progress display). */
export interface BuildProgress extends StageProgress {
  /**
   * Input bytes (compressed sizes) the stage is expected to read in all: the group stage's files;
   * for the census, what early stop is projected to read (src/run/earlyStop.ts `projection`),
   * which moves as units finish. `inputBytes` and `units` are measured against it.
   */
  totalInputBytes: number;
  /** Rows of the whole build, once planned (0 before). */
  totalRows: number;
}

/** Options of one build. */
export interface BuildOptions {
  loaded: LoadedRecipe;
  /** Output directory (created if missing). */
  outDir: string;
  /** Work directory; default `<outDir>/.longmix-work`. */
  workDir?: string;
  /** Worker threads, >= 1. */
  workers: number;
  /** Export formats besides the native shards (`hf`, `megatron`). */
  formats?: readonly string[];
  /** Discard the work of an unfinished run in the work directory and start over. */
  restart?: boolean;
  onProgress?: (progress: BuildProgress) => void;
  /** A prebuilt tokenizer spec (tests reuse one); built from the recipe's tokenizer otherwise. */
  tokenizerSpec?: TokenizerSpec;
  /** The output directory's lock, when the caller holds it; otherwise the build takes and drops its own. */
  lock?: OutDirLock;
}

/** The result of a build. */
export interface BuildResult {
  outDir: string;
  manifest: Manifest;
  /** Wall time per stage of this call (empty when nothing was done). */
  timings: StageTiming[];
  /** `new` or `resume`: this call built it; `done`: the same build was already committed (nothing was done). */
  state: RunState;
}

/** The run record of a build: its recipe, tokenizer, formats, inputs and census units. */
export async function prepareRun(options: BuildOptions, spec: TokenizerSpec): Promise<RunRecord> {
  const outDir = path.resolve(options.outDir);
  const workDir = path.resolve(options.workDir ?? path.join(outDir, WORK_DIR_NAME));
  return createRunRecord(options.loaded, spec.identity, options.formats ?? [], outDir, workDir);
}

/** Wall time of one stage of a run, seconds (this attempt's: a resumed build counts only what it redid). */
export interface StageTiming {
  phase: StageName;
  seconds: number;
}

const since = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** Runs the census, plan and write stages of `run` on a local pool, skipping done units; returns their wall times. */
export async function runStagesLocally(run: RunRecord, spec: TokenizerSpec, workers: number, onProgress?: (p: BuildProgress) => void): Promise<StageTiming[]> {
  // The group stage reads the files of its units; the census reports its own total (below).
  const totalInputBytes = run.group.reduce((s, g) => s + run.inputs[g.input].sizeBytes, 0);
  let totalRows = 0;
  const report = (p: StageProgress) => onProgress?.({ ...p, totalInputBytes, totalRows });
  const pending = async (stage: StageName, count: number) => {
    const out: number[] = [];
    for (let i = 0; i < count; i++) if (!(await doneRecord(run, stage, i))) out.push(i);
    return out;
  };
  const timings: StageTiming[] = [];
  const pool = new UnitPool(run, spec, workers);
  try {
    let start = process.hrtime.bigint();
    if (run.group.length) {
      await pool.run('group', await pending('group', run.group.length), report, run.group.length);
      timings.push({ phase: 'group', seconds: since(start) });
      start = process.hrtime.bigint();
    }
    // Early stop: sources take turns, each in its seeded read order, until its budgets are met.
    const queue = new CensusQueue(run, (u) => censusAvailable(run, u));
    const remaining = await queue.load();
    // The census bar's total is what early stop is expected to read (updated as units finish), and
    // it counts the bytes of units done by an earlier attempt, so its rate is this attempt's.
    const unitBytes = (u: number) => run.census[u].inputs.reduce((sum, i) => sum + run.inputs[i].sizeBytes, 0);
    const doneBefore = run.census.reduce((sum, _, u) => sum + (queue.isStarted(u) ? unitBytes(u) : 0), 0);
    let projection = { unitsDone: -1, units: 0, inputBytes: 0 };
    const censusReport = (p: StageProgress) => {
      if (p.unitsDone !== projection.unitsDone) projection = { unitsDone: p.unitsDone, ...queue.projection(unitBytes) };
      onProgress?.({ ...p, units: projection.units, inputBytes: doneBefore + p.inputBytes, totalInputBytes: projection.inputBytes, totalRows });
    };
    await pool.run(
      'census',
      { next: () => queue.next(), done: (u) => queue.doneUnit(u), alreadyDone: run.census.length - remaining },
      censusReport,
      run.census.length,
    );
    timings.push({ phase: 'census', seconds: since(start) });
    start = process.hrtime.bigint();
    await pool.run('plan', await pending('plan', 1), report, 1);
    timings.push({ phase: 'plan', seconds: since(start) });
    const plan = (await planResult(run))!;
    totalRows = plan.rows;
    const pendingWrites = await pending('write', plan.shards.length);
    if (pendingWrites.length)
      await assertFreeSpace(run, writeBytesEstimate(run, Math.ceil((plan.rows * pendingWrites.length) / plan.shards.length)), 'write stage and the exports');
    start = process.hrtime.bigint();
    await pool.run('write', pendingWrites, report, plan.shards.length);
    timings.push({ phase: 'write', seconds: since(start) });
  } finally {
    await pool.close();
  }
  return timings;
}

/** File of the last run's stage timings in a work directory (kept after the commit; not part of the build's bytes). */
export const TIMINGS_FILE = 'timings.json';

/**
 * Runs a whole build here (see the file header). Holds the output directory's lock throughout.
 * @throws InputError on a missing input file or a bad record; BudgetError on an unsatisfiable
 *   budget; PipelineError on an output or work directory that is not longmix's, another build
 *   holding it, or another unfinished run in the work directory. Whatever fails, a previous build
 *   in the output directory stays complete and readable, and the work done so far is kept for a rerun.
 */
export async function buildMix(options: BuildOptions): Promise<BuildResult> {
  const spec = options.tokenizerSpec ?? (await buildTokenizerSpec(options.loaded.recipe.tokenizer));
  const run = await prepareRun(options, spec);
  const lock = options.lock ?? (await openOutDir(run.outDir));
  try {
    // A commit that began publishing (its journal exists) may have moved this run's exports in
    // already: they are this run's, not a user's.
    const publishing =
      (await readRunRecord(run.workDir).catch(() => null))?.runId === run.runId && existsSync(path.join(run.workDir, 'commit', 'journal.json'));
    await prepareOutDir(run.outDir, publishing ? [] : run.formats, run.runId);
    const state = await openRun(run, options.restart ?? false);
    if (state === 'done') {
      await cleanWork(run);
      return { outDir: options.outDir, manifest: (await previousManifest(run.outDir))!, state, timings: [] };
    }
    const timings = await runStagesLocally(run, spec, options.workers, options.onProgress);
    options.onProgress?.({ stage: 'commit', unitsDone: 0, units: 1, documents: 0, tokens: 0, inputBytes: 0, rows: 0, totalInputBytes: 0, totalRows: 0 });
    const start = process.hrtime.bigint();
    const manifest = await runCommit(run, await previousManifest(run.outDir));
    options.onProgress?.({ stage: 'commit', unitsDone: 1, units: 1, documents: 0, tokens: 0, inputBytes: 0, rows: 0, totalInputBytes: 0, totalRows: 0 });
    timings.push({ phase: 'commit', seconds: since(start) });
    await writeFile(path.join(run.workDir, TIMINGS_FILE), JSON.stringify({ phases: timings }, null, 2) + '\n');
    return { outDir: options.outDir, manifest, state, timings };
  } finally {
    if (!options.lock) lock.release();
  }
}
