/**
 * The local executor's pool: `workers` threads (./worker.ts), each running whole units, the next
 * unit going to whichever thread is free. Where a unit runs never changes its outputs (they are
 * named by the unit), so the build's bytes do not depend on the worker count or on timing.
 *
 * Failure: when a unit fails, no further unit is started; units already running finish; then the
 * failure of the lowest-numbered failed unit is thrown. Units are started in index order, so
 * every unit below it has finished by then: the error reported is the same whatever the timing.
 */
import { Worker } from 'node:worker_threads';
import { BudgetError, ConfigError, CorruptInputError, InputError, InvariantError, PipelineError } from '../core/errors.ts';
import type { TokenizerSpec } from '../tokenize/tokenizer.ts';
import type { RunRecord } from './runRecord.ts';
import type { StageName } from './stages.ts';
import type { WorkerProgress } from './worker.ts';

/** Progress of the units of one stage: finished units plus the partial counts of running ones. */
export interface StageProgress {
  stage: StageName;
  unitsDone: number;
  units: number;
  documents: number;
  tokens: number;
  /** Raw input bytes read (census). */
  inputBytes: number;
  /** Rows written (write). */
  rows: number;
}

type Message =
  | WorkerProgress
  | { type: 'done'; stage: StageName; index: number }
  | { type: 'failed'; stage: StageName; index: number; name: string; message: string; stack: string; context: Record<string, unknown> };

const ERRORS: Record<string, new (message: string, context: Record<string, unknown>) => PipelineError> = {
  PipelineError,
  ConfigError,
  InputError,
  BudgetError,
  InvariantError,
};

/** Rebuilds a worker's error in this thread (its class by name, its message and context; others as PipelineError with the stack). */
function errorOf(m: Extract<Message, { type: 'failed' }>): Error {
  if (m.name === 'CorruptInputError') {
    const c = m.context as { file: string; byteOffset: number; recordsRead: number };
    return new CorruptInputError(m.message, c.file, c.byteOffset, c.recordsRead);
  }
  const Class = ERRORS[m.name];
  if (Class) return new Class(m.message, m.context);
  const error = new PipelineError(`${m.stage} unit ${m.index} failed: ${m.message}`);
  error.stack = m.stack;
  return error;
}

/**
 * Where a stage's units come from when they are not a fixed list: `next` gives the next unit to
 * start (undefined: none for now, or none left), `done` learns that a unit finished (before `next`
 * is asked again). Early stop (./earlyStop.ts) decides this way which units are worth reading.
 */
export interface UnitQueue {
  next(): number | undefined;
  done(index: number): Promise<void>;
  /** Units of the stage done before this run of it (for progress). */
  alreadyDone: number;
}

interface Slot {
  worker: Worker;
  busy: { stage: StageName; index: number } | null;
}

/** A pool of unit-running threads over one run. */
export class UnitPool {
  private readonly slots: Slot[];
  private onMessage: ((slot: Slot, m: Message) => void) | null = null;
  private onExit: ((slot: Slot, error: Error) => void) | null = null;

  /**
   * Starts `workers` threads over `run`.
   * @param spec - the tokenizer spec for census units (null when no census unit will run).
   * @throws RangeError when `workers` is not a positive integer.
   */
  constructor(run: RunRecord, spec: TokenizerSpec | null, workers: number) {
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`Expected workers to be a positive integer, got ${workers}`);
    const url = new URL('./worker-entry.mjs', import.meta.url);
    this.slots = Array.from({ length: workers }, () => {
      const slot: Slot = { worker: new Worker(url, { workerData: { run, spec } }), busy: null };
      slot.worker.on('message', (m: Message) => {
        try {
          this.onMessage?.(slot, m);
        } catch (error) {
          // A bug in handling a message must end the stage, not leave it waiting forever.
          this.onExit?.(slot, error as Error);
        }
      });
      slot.worker.on('error', (error) => this.onExit?.(slot, error));
      slot.worker.on('exit', (code) => this.onExit?.(slot, new PipelineError(`a worker thread exited with code ${code}`)));
      return slot;
    });
  }

  /**
   * Runs `indices` of `stage` (in that order of starting) and resolves when all are done.
   * @throws the failure of the lowest-numbered failed unit (see the file header).
   */
  run(
    stage: StageName,
    units: readonly number[] | UnitQueue,
    onProgress?: (p: StageProgress) => void,
    totalUnits = Array.isArray(units) ? units.length : 0,
  ): Promise<void> {
    const list = Array.isArray(units) ? [...(units as readonly number[])] : null;
    const queue: UnitQueue = list ? { next: () => list.shift(), done: async () => undefined, alreadyDone: totalUnits - list.length } : (units as UnitQueue);
    const partial = new Map<number, WorkerProgress>();
    const progress: StageProgress = { stage, unitsDone: queue.alreadyDone, units: totalUnits, documents: 0, tokens: 0, inputBytes: 0, rows: 0 };
    const finished = { documents: 0, tokens: 0, inputBytes: 0, rows: 0 };
    const failures = new Map<number, Error>();
    const report = () => {
      const sum = { ...finished };
      for (const p of partial.values()) for (const k of ['documents', 'tokens', 'inputBytes', 'rows'] as const) sum[k] += p[k];
      onProgress?.({ ...progress, ...sum });
    };
    return new Promise<void>((resolve, reject) => {
      const next = (slot: Slot) => {
        slot.busy = null;
        const index = failures.size === 0 ? queue.next() : undefined;
        if (index !== undefined) {
          slot.busy = { stage, index };
          slot.worker.postMessage({ stage, index });
          return;
        }
        if (this.slots.some((s) => s.busy)) return;
        this.onMessage = this.onExit = null;
        if (failures.size) reject(failures.get(Math.min(...failures.keys()))!);
        else resolve();
      };
      this.onMessage = (slot, m) => {
        if (m.type === 'progress') {
          partial.set(m.index, m);
          report();
          return;
        }
        const p = partial.get(m.index);
        partial.delete(m.index);
        if (m.type === 'done') {
          if (p) for (const k of ['documents', 'tokens', 'inputBytes', 'rows'] as const) finished[k] += p[k];
          progress.unitsDone++;
          report();
          queue.done(m.index).then(
            () => next(slot),
            (error: Error) => {
              failures.set(m.index, error);
              next(slot);
            },
          );
          return;
        }
        failures.set(m.index, errorOf(m));
        next(slot);
      };
      this.onExit = (slot, error) => {
        if (!this.slots.includes(slot)) return; // 'error' and then 'exit' of one thread
        if (slot.busy) failures.set(slot.busy.index, error);
        slot.busy = null;
        this.slots.splice(this.slots.indexOf(slot), 1);
        if (this.slots.length === 0) {
          this.onMessage = this.onExit = null;
          reject(failures.size ? failures.get(Math.min(...failures.keys()))! : error);
        } else if (!this.slots.some((s) => s.busy)) next(this.slots[0]);
      };
      if (list && list.length === 0) return resolve();
      for (const slot of this.slots) next(slot);
      if (!this.slots.some((s) => s.busy)) {
        this.onMessage = this.onExit = null;
        resolve();
      }
    });
  }

  /** Stops every thread. */
  async close(): Promise<void> {
    this.onMessage = this.onExit = null;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
