/**
 * A worker thread of the local executor: runs whole units (reading, decompression, parsing,
 * hashing, tokenizing and writing for a census unit; the plan; one shard), one at a time, as the
 * pool sends them. `workerData` is `{ run: RunRecord, spec: TokenizerSpec | null }`; the tokenizer
 * is built on the first census unit.
 *
 * Messages in: `{ stage, index }`. Messages out: `{ type: 'progress', … }` (at most every 100 ms
 * per unit), then `{ type: 'done', stage, index }` or `{ type: 'failed', stage, index, name, message }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PipelineError } from '../core/errors.ts';
import { createTokenizerFromSpec } from '../tokenize/registry.ts';
import type { Tokenizer, TokenizerSpec } from '../tokenize/tokenizer.ts';
import type { RunRecord } from './runRecord.ts';
import { runCensus, runGroup, runPlan, runWrite, type StageName } from './stages.ts';

const { run, spec } = workerData as { run: RunRecord; spec: TokenizerSpec | null };
let tokenizer: Tokenizer | undefined;

/** A unit's progress, as the worker reports it. */
export interface WorkerProgress {
  type: 'progress';
  stage: StageName;
  index: number;
  documents: number;
  tokens: number;
  inputBytes: number;
  rows: number;
}

parentPort!.on('message', async ({ stage, index }: { stage: StageName; index: number }) => {
  let last = 0;
  const report = (p: Partial<WorkerProgress>, force = false) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    parentPort!.postMessage({ type: 'progress', stage, index, documents: 0, tokens: 0, inputBytes: 0, rows: 0, ...p });
  };
  try {
    if (stage === 'census') {
      if (!spec) throw new Error('census unit sent to a worker without a tokenizer spec');
      tokenizer ??= createTokenizerFromSpec(spec);
      let latest = { documents: 0, tokens: 0 };
      await runCensus(run, index, tokenizer, (p) => report((latest = { ...p })));
      // The unit's whole input, once read (a reader's own byte counts may stop short of it).
      report({ ...latest, inputBytes: run.census[index].inputs.reduce((sum, i) => sum + run.inputs[i].sizeBytes, 0) }, true);
    } else if (stage === 'group') {
      await runGroup(run, index, (bytes) => report({ inputBytes: bytes }));
      report({ inputBytes: run.inputs[run.group[index].input].sizeBytes }, true);
    } else if (stage === 'plan') {
      let latest = { documents: 0, rows: 0 };
      await runPlan(run, (p) => report((latest = { ...p })));
      report(latest, true);
    } else if (stage === 'write') {
      let rows = 0;
      await runWrite(run, index, (r) => report({ rows: (rows = r) }));
      report({ rows }, true);
    } else throw new Error(`stage ${stage} does not run in a worker`);
    parentPort!.postMessage({ type: 'done', stage, index });
  } catch (error) {
    const e = error as Error;
    const context = error instanceof PipelineError ? JSON.parse(JSON.stringify(error.context)) : {};
    parentPort!.postMessage({ type: 'failed', stage, index, name: e?.name ?? 'Error', message: e?.message ?? String(error), stack: e?.stack ?? '', context });
  }
});
