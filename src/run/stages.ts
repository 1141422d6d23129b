/**
 * The stages of a build as units of work in a work directory, whatever runs them (this machine's
 * worker pool, a Slurm array task, a Kubernetes indexed job):
 *
 * | stage    | units                          | outputs (in `<work>/<stage>/`)                          |
 * |----------|--------------------------------|---------------------------------------------------------|
 * | `census` | one per input file ({@link RunRecord.census}) | `uNNNNN.tokens`, `uNNNNN.docs.json`          |
 * | `plan`   | one                            | `manifest.json` (without shard infos), `sNNNNN.rows.json` per shard |
 * | `write`  | one per shard                  | the shard, `shard-NNNNN-<build>.arrow`                  |
 * | `commit` | one                            | publishes the build into the output directory           |
 *
 * Each unit removes its earlier attempts' temporaries, marks itself running, writes its outputs
 * under attempt-unique temporary names and renames them, then writes its completion record last
 * (./records.ts). A unit whose completion record carries the run's fingerprint is done and is
 * never redone.
 */
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { TokenFileWriter, runCensusUnit, type CensusUnitProgress } from '../census/unit.ts';
import { readDocTable, TokenFileReader, type CensusCounts } from '../census/store.ts';
import { PipelineError } from '../core/errors.ts';
import { faultPoint } from '../core/fault.ts';
import { sha256Hex, stableHash, stableStringify } from '../core/stableJson.ts';
import { TOOL } from '../core/version.ts';
import type { InputIdentity } from '../manifest/types.ts';
import { planFromCensus, type ShardPlanned, type UnitCensus } from '../plan/reduce.ts';
import type { ShardInfo } from '../shard/writer.ts';
import type { Tokenizer } from '../tokenize/tokenizer.ts';
import { writeShard } from '../write/index.ts';
import { attemptId, digestFile, readDone, removeUnitTemporaries, writeAtomic, writeDone, writeFailed, writeRunning, type CompletionRecord } from './records.ts';
import { cellsOfSource, loadedOf, type RunRecord } from './runRecord.ts';

/** The stages, in order. */
export const STAGES = ['census', 'plan', 'write', 'commit'] as const;
/** A stage name. */
export type StageName = (typeof STAGES)[number];

/** Directory of a stage's outputs and records. */
export const stageDir = (run: RunRecord, stage: StageName) => path.join(run.workDir, stage);

/** Name of unit `index` of `stage` in its directory. */
export function unitName(stage: StageName, index: number): string {
  if (stage === 'census') return `u${String(index).padStart(5, '0')}`;
  if (stage === 'write') return `s${String(index).padStart(5, '0')}`;
  return stage;
}

/** Fingerprint of a unit: SHA-256 over the run's id, the stage and the unit's name. */
export function unitFingerprint(run: RunRecord, stage: StageName, index: number): string {
  return stableHash({ runId: run.runId, stage, unit: unitName(stage, index) });
}

/** The completion record of a unit when it is done in this run, else null. */
export function doneRecord(run: RunRecord, stage: StageName, index: number): Promise<CompletionRecord | null> {
  return readDone(stageDir(run, stage), unitName(stage, index), unitFingerprint(run, stage, index));
}

/** What a census unit's completion record carries besides its outputs. */
export interface CensusResult {
  counts: CensusCounts;
  inputs: InputIdentity[];
}

/** What the plan's completion record carries. */
export interface PlanResult {
  buildId: string;
  /** Rows of the build. */
  rows: number;
  /** Shard file names, in shard order. */
  shards: string[];
}

/**
 * Runs `work` as an attempt of a unit: clears earlier temporaries, marks it running, and records
 * a failure (then rethrows) or writes its completion record.
 */
async function attempt(
  run: RunRecord,
  stage: StageName,
  index: number,
  work: (dir: string, name: string, tmp: (file: string) => string) => Promise<Omit<CompletionRecord, 'format' | 'stage' | 'unit' | 'fingerprint'>>,
): Promise<CompletionRecord> {
  const dir = stageDir(run, stage);
  const name = unitName(stage, index);
  await mkdir(dir, { recursive: true });
  removeUnitTemporaries(dir, name);
  await writeRunning(
    dir,
    name,
    process.env.SLURM_JOB_ID ? `${process.env.SLURM_ARRAY_JOB_ID ?? process.env.SLURM_JOB_ID}_${process.env.SLURM_ARRAY_TASK_ID ?? ''}` : undefined,
  );
  const id = attemptId();
  try {
    await faultPoint(`${stage}:${name}:start`);
    const done = await work(dir, name, (file) => path.join(dir, `${file}.tmp.${id}`));
    await faultPoint(`${stage}:${name}:before-done`);
    const record: CompletionRecord = { format: 'longmix-unit-done/1', stage, unit: name, fingerprint: unitFingerprint(run, stage, index), ...done };
    await writeDone(dir, record);
    return record;
  } catch (error) {
    removeUnitTemporaries(dir, name);
    await writeFailed(dir, name, error).catch(() => undefined);
    throw error;
  }
}

/**
 * Runs census unit `index`: reads and tokenizes its input file(s) into `uNNNNN.tokens` and
 * `uNNNNN.docs.json`; its counts and input identities go into the completion record.
 */
export function runCensus(run: RunRecord, index: number, tokenizer: Tokenizer, onProgress?: (p: CensusUnitProgress) => void): Promise<CompletionRecord> {
  return attempt(run, 'census', index, async (dir, name, tmp) => {
    const spec = run.census[index];
    const source = run.recipe.sources.find((s) => s.name === spec.source)!;
    const tokensFile = `${name}.tokens`;
    const docsFile = `${name}.docs.json`;
    const writer = await TokenFileWriter.create(tmp(tokensFile));
    let result;
    try {
      result = await runCensusUnit(
        { recipe: run.recipe, source, cells: cellsOfSource(run, spec.source), files: spec.inputs.map((i) => run.inputs[i]), baseDir: run.baseDir },
        tokenizer,
        writer,
        onProgress,
      );
    } finally {
      await writer.close();
    }
    await faultPoint(`census:${name}:tokens-written`);
    await rename(tmp(tokensFile), path.join(dir, tokensFile));
    await writeAtomic(path.join(dir, docsFile), JSON.stringify(result.docs));
    const outputs = { [tokensFile]: await digestFile(path.join(dir, tokensFile)), [docsFile]: await digestFile(path.join(dir, docsFile)) };
    const censusResult: CensusResult = { counts: result.counts, inputs: result.inputs };
    return { outputs, result: censusResult };
  });
}

/**
 * Reads what the plan needs of every census unit, in unit order, checking each output against
 * its completion record.
 * @throws PipelineError naming the first unit that is not done or whose outputs do not match.
 */
async function censusUnits(run: RunRecord): Promise<{ units: UnitCensus[]; inputs: InputIdentity[] }> {
  const units: UnitCensus[] = [];
  const byPath = new Map<string, InputIdentity>();
  for (let i = 0; i < run.census.length; i++) {
    const record = await doneRecord(run, 'census', i);
    if (!record) throw new PipelineError(`census unit ${unitName('census', i)} (${run.census[i].source}) is not done; run the census stage first`, { unit: i });
    const name = unitName('census', i);
    const docsFile = path.join(stageDir(run, 'census'), `${name}.docs.json`);
    const text = await readFile(docsFile);
    if (sha256Hex(text) !== record.outputs[`${name}.docs.json`]?.sha256) {
      throw new PipelineError(`${docsFile}: differs from its completion record; rerun the build with --restart`, { unit: i });
    }
    const result = record.result as CensusResult;
    units.push({ unit: i, source: run.census[i].source, counts: result.counts, docs: await readDocTable(docsFile) });
    for (const identity of result.inputs) byPath.set(`${identity.source}\u0000${identity.path}`, identity);
  }
  const inputs = run.inputs.map((input) => byPath.get(`${input.source}\u0000${input.relPath}`)!);
  return { units, inputs };
}

/** Runs the plan: the manifest without shard infos, and one rows file per shard. */
export function runPlan(run: RunRecord): Promise<CompletionRecord> {
  return attempt(run, 'plan', 0, async (dir) => {
    const { units, inputs } = await censusUnits(run);
    const files = new Map<string, number>();
    for (const input of run.inputs) files.set(input.source, (files.get(input.source) ?? 0) + 1);
    const plan = planFromCensus(loadedOf(run), run.tokenizer, units, inputs, files);
    const outputs: CompletionRecord['outputs'] = {};
    const put = async (file: string, text: string) => {
      await writeAtomic(path.join(dir, file), text);
      outputs[file] = { sizeBytes: Buffer.byteLength(text), sha256: sha256Hex(text) };
    };
    for (const shard of plan.shards) await put(`${unitName('write', shard.index)}.rows.json`, JSON.stringify(shard));
    await put('manifest.json', stableStringify(plan.manifest));
    const result: PlanResult = { buildId: plan.buildId, rows: plan.manifest.rows.total, shards: plan.shards.map((s) => s.file) };
    return { outputs, result };
  });
}

/** The plan's result, when the plan is done. */
export async function planResult(run: RunRecord): Promise<PlanResult | null> {
  const record = await doneRecord(run, 'plan', 0);
  return record ? (record.result as PlanResult) : null;
}

/** Reads a planned shard's rows, checking them against the plan's completion record. */
async function plannedShard(run: RunRecord, index: number): Promise<ShardPlanned> {
  const record = await doneRecord(run, 'plan', 0);
  if (!record) throw new PipelineError('the plan is not done; run the plan stage first');
  const file = `${unitName('write', index)}.rows.json`;
  const text = await readFile(path.join(stageDir(run, 'plan'), file));
  if (sha256Hex(text) !== record.outputs[file]?.sha256)
    throw new PipelineError(`${path.join(stageDir(run, 'plan'), file)}: differs from the plan's completion record; rerun with --restart`);
  return JSON.parse(text.toString('utf8')) as ShardPlanned;
}

/** Shard metadata every shard of a run carries (src/shard/schema.ts). */
function shardMetadata(run: RunRecord): Record<string, unknown> {
  const { recipe } = run;
  return {
    recipeHash: run.recipeHash,
    rowTokens: recipe.rowTokens,
    originalWindowTokens: recipe.originalWindowTokens,
    longRowAttention: recipe.packing.longRowAttention,
    tokenizer: run.tokenizer.name,
    vocabularySha256: run.tokenizer.vocabularySha256,
    tool: `${TOOL.name}@${TOOL.version}`,
  };
}

/** Runs write unit `index`: the shard, staged in `<work>/write/` under its final name. */
export function runWrite(run: RunRecord, index: number, onRow?: (rowsWritten: number) => void): Promise<CompletionRecord> {
  return attempt(run, 'write', index, async (dir, _name, tmp) => {
    const shard = await plannedShard(run, index);
    const readers = new Map<number, TokenFileReader>();
    const censusDir = stageDir(run, 'census');
    const readTokens = async (unit: number, offsetTokens: number, target: Int32Array) => {
      let reader = readers.get(unit);
      if (!reader) readers.set(unit, (reader = await TokenFileReader.open(path.join(censusDir, `${unitName('census', unit)}.tokens`))));
      await reader.read(offsetTokens, target);
    };
    let info: ShardInfo;
    try {
      info = await writeShard(shard, readTokens, tmp(shard.file), {
        rowTokens: run.recipe.rowTokens,
        padId: run.tokenizer.padId,
        longRowAttention: run.recipe.packing.longRowAttention,
        rowsPerBatch: run.recipe.output.rowsPerBatch,
        vocabSize: run.tokenizer.vocabSize,
        shardMetadata: shardMetadata(run),
        onRow,
      });
    } finally {
      for (const reader of readers.values()) await reader.close();
    }
    await faultPoint(`write:${unitName('write', index)}:shard-written`);
    await rename(tmp(shard.file), path.join(dir, shard.file));
    return { outputs: { [shard.file]: { sizeBytes: info.sizeBytes, sha256: info.sha256 } }, result: info };
  });
}
