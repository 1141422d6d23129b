/**
 * One task of a stage, as an array job runs it (Slurm, a Kubernetes indexed job, AWS Batch): the
 * units of the stage are dealt to `count` tasks by index (unit u goes to task `u mod count`); a
 * task runs its units that are not done on a local pool of worker threads, and skips the rest.
 * The plan and the commit are single units (task 0 runs them). The units' completion records are
 * the only truth about what is done: a task can be rerun, or run twice at once, without harm.
 */
import { InputError, PipelineError } from '../core/errors.ts';
import { buildTokenizerSpec } from '../tokenize/registry.ts';
import type { TokenizerSpec } from '../tokenize/tokenizer.ts';
import { cleanWork, runCommit } from './commitStage.ts';
import { openOutDir, previousManifest } from './outDir.ts';
import { UnitPool, type StageProgress } from './pool.ts';
import type { RunRecord } from './runRecord.ts';
import { doneRecord, planResult, STAGES, type StageName } from './stages.ts';
import { isCommitted, readRunRecord } from './workDir.ts';
import { controlWave, waveUnits } from './waves.ts';

/** Which task this is, of how many. */
export interface TaskSlot {
  /** 0-based task index. */
  index: number;
  /** Number of tasks of the stage. */
  count: number;
}

/**
 * The task slot from the environment: `LONGMIX_TASK_INDEX` or Slurm's `SLURM_ARRAY_TASK_ID`;
 * `LONGMIX_TASK_COUNT` (Slurm's own count is that of the current submission, not of the job, so it
 * is never used).
 * @throws PipelineError when no index or count is given, or they are not integers with 0 <= index < count.
 */
export function taskSlotFrom(env: NodeJS.ProcessEnv, given: Partial<TaskSlot> = {}): TaskSlot {
  const index = given.index ?? numberOf(env.LONGMIX_TASK_INDEX ?? env.SLURM_ARRAY_TASK_ID, 'task index (--index, LONGMIX_TASK_INDEX or SLURM_ARRAY_TASK_ID)');
  const count = given.count ?? numberOf(env.LONGMIX_TASK_COUNT, 'task count (--count or LONGMIX_TASK_COUNT)');
  if (count < 1 || index >= count) throw new PipelineError(`Expected a task index in [0, ${count}) and a count >= 1, got index ${index} of ${count}`);
  return { index, count };
}

function numberOf(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d+$/.test(value))
    throw new PipelineError(`Expected a ${what}: a whole number, got ${value === undefined ? 'none' : JSON.stringify(value)}`);
  return Number(value);
}

/** The number of units of `stage` in `run` (write: once the plan is done). */
export async function unitCount(run: RunRecord, stage: StageName): Promise<number | null> {
  if (stage === 'group') return run.group.length;
  if (stage === 'census') return run.census.length;
  if (stage === 'write') return (await planResult(run))?.shards.length ?? null;
  return 1;
}

/** The tokenizer spec of a run, checked against the identity its run record pins. */
export async function runTokenizerSpec(run: RunRecord): Promise<TokenizerSpec> {
  const spec = await buildTokenizerSpec(run.tokenizer.name as RunRecord['recipe']['tokenizer']);
  if (spec.identity.vocabularySha256 !== run.tokenizer.vocabularySha256) {
    throw new InputError(
      `tokenizer ${run.tokenizer.name}: this machine builds vocabulary ${spec.identity.vocabularySha256}, the run pins ${run.tokenizer.vocabularySha256}; install the same longmix version everywhere`,
    );
  }
  return spec;
}

/**
 * Runs task `slot` of `stage` of the run in `workDir`.
 * @returns the numbers of units this task ran and skipped (done already).
 * @throws PipelineError when the work directory holds no run, an earlier stage is not done, or a unit fails (the lowest failed unit's error).
 */
export async function runTask(
  workDir: string,
  stage: StageName | 'census-control',
  slot: TaskSlot,
  workers: number,
  onProgress?: (p: StageProgress) => void,
  wave?: number,
): Promise<{ ran: number; skipped: number; note?: string }> {
  if (stage !== 'census-control' && !STAGES.includes(stage))
    throw new PipelineError(`Expected a stage among ${STAGES.join(', ')} or census-control, got "${stage}"`);
  const run = await readRunRecord(workDir);
  if (!run) throw new PipelineError(`${workDir}: no run record (run.json); start the build with build-mix first`, { workDir });
  if (stage === 'census-control') {
    if (wave === undefined) throw new PipelineError('census-control needs --wave');
    return { ran: 0, skipped: 0, note: await controlWave(run, wave) };
  }
  if (stage === 'commit') {
    if (slot.index !== 0) return { ran: 0, skipped: 0 };
    if (await isCommitted(run)) {
      await cleanWork(run);
      return { ran: 0, skipped: 1 };
    }
    const lock = await openOutDir(run.outDir);
    try {
      await runCommit(run, await previousManifest(run.outDir));
    } finally {
      lock.release();
    }
    return { ran: 1, skipped: 0 };
  }
  const total = await unitCount(run, stage);
  if (total === null) throw new PipelineError(`the plan of ${workDir} is not done, so the write stage has no units yet; run the plan stage first`, { workDir });
  // A census wave (Slurm early stop, ./waves.ts) lists its units; else the stage's units are all dealt.
  const units = stage === 'census' && wave !== undefined ? await waveUnits(run, wave) : Array.from({ length: total }, (_, u) => u);
  const mine: number[] = [];
  let skipped = 0;
  for (let k = slot.index; k < units.length; k += slot.count) {
    if (await doneRecord(run, stage, units[k])) skipped++;
    else mine.push(units[k]);
  }
  if (mine.length === 0) return { ran: 0, skipped };
  const pool = new UnitPool(run, stage === 'census' ? await runTokenizerSpec(run) : null, Math.min(workers, mine.length));
  try {
    await pool.run(stage, mine, onProgress, mine.length);
  } finally {
    await pool.close();
  }
  return { ran: mine.length, skipped };
}
