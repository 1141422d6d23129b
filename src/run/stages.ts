/**
 * The stages of a build as units of work in a work directory, whatever runs them (this machine's
 * worker pool, a Slurm array task, a Kubernetes indexed job):
 *
 * | stage    | units                          | outputs (in `<work>/<stage>/`)                          |
 * |----------|--------------------------------|---------------------------------------------------------|
 * | `group`  | one per StarCoder file of a source grouped by repository | `gNNNNN.entries.jsonl` (by partition)  |
 * | `census` | one per input file ({@link RunRecord.census}) | `uNNNNN.tokens`, `uNNNNN.docs.arrow`         |
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
import { TokenFileWriter, runCensusUnit, runPartitionUnit, type CensusUnitProgress, type PartitionRange } from '../census/unit.ts';
import { runGroupUnit, type GroupUnitResult } from '../census/group.ts';
import { TokenFileReader, type CensusCounts } from '../census/store.ts';
import { decodeDocTable, emptyDocColumns, encodeDocTable } from '../census/docTable.ts';
import { PipelineError } from '../core/errors.ts';
import { faultPoint } from '../core/fault.ts';
import { freeBytes, writeBytesEstimate } from './diskSpace.ts';
import { sha256Hex, stableHash, stableStringify } from '../core/stableJson.ts';
import { TOOL } from '../core/version.ts';
import type { InputIdentity } from '../manifest/types.ts';
import type { SourceReading } from '../manifest/ledger.ts';
import { planFromCensus, type ShardPlanned, type UnitCensus } from '../plan/reduce.ts';
import type { PlanProgress } from '../plan/select.ts';
import type { ShardInfo } from '../shard/writer.ts';
import type { Tokenizer } from '../tokenize/tokenizer.ts';
import { writeShard } from '../write/index.ts';
import { attemptId, digestFile, readDone, removeUnitTemporaries, writeAtomic, writeDone, writeFailed, writeRunning, type CompletionRecord } from './records.ts';
import { cellsOfSource, loadedOf, type RunRecord } from './runRecord.ts';
import { sourcePrefix, type SourcePrefix } from './earlyStop.ts';

/** The stages, in order. `group` has units only when a StarCoder source groups repositories. */
export const STAGES = ['group', 'census', 'plan', 'write', 'commit'] as const;
/** A stage name. */
export type StageName = (typeof STAGES)[number];

/** Directory of a stage's outputs and records. */
export const stageDir = (run: RunRecord, stage: StageName) => path.join(run.workDir, stage);

/** Name of unit `index` of `stage` in its directory. */
export function unitName(stage: StageName, index: number): string {
  if (stage === 'group') return `g${String(index).padStart(5, '0')}`;
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

/** A done census unit's in-cell tokens per cell (from its completion record), or null when it is not done. */
export async function censusAvailable(run: RunRecord, index: number): Promise<number[] | null> {
  const record = await doneRecord(run, 'census', index);
  return record ? (record.result as CensusResult).counts.cells.map((c) => c.tokens) : null;
}

/** The census units each source's build uses (early stop, ./earlyStop.ts), by source; throws when a prefix is not known yet. */
export async function usedPrefixes(run: RunRecord): Promise<SourcePrefix[]> {
  const available = new Map<number, number[]>();
  for (let i = 0; i < run.census.length; i++) {
    const cells = await censusAvailable(run, i);
    if (cells) available.set(i, cells);
  }
  return run.recipe.sources.map((s) => sourcePrefix(run, s.name, (u) => available.get(u) ?? null));
}

/** What a census unit's completion record carries besides its outputs. */
export interface CensusResult {
  counts: CensusCounts;
  inputs: InputIdentity[];
  /** Wall time of the unit in its worker thread, seconds (a measurement, not part of the build's bytes; `plan --estimate` uses it). */
  seconds: number;
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
    // Temporaries carry the unit's name first, so that removeUnitTemporaries finds them all.
    const done = await work(dir, name, (file) => path.join(dir, `${file.startsWith(`${name}.`) ? file : `${name}.${file}`}.tmp.${id}`));
    await faultPoint(`${stage}:${name}:before-done`);
    const record: CompletionRecord = { format: 'longmix-unit-done/1', stage, unit: name, fingerprint: unitFingerprint(run, stage, index), ...done };
    await writeDone(dir, record);
    return record;
  } catch (error) {
    removeUnitTemporaries(dir, name);
    const located = locateSystemError(error, `${stage} unit ${name}${unitSubject(run, stage, index)}`, dir);
    await writeFailed(dir, name, located).catch(() => undefined);
    throw located;
  }
}

/** What a unit works on, for messages: ` (input <file>)`, ` (partition N of <source>)`, ` (shard N)`, or nothing. */
function unitSubject(run: RunRecord, stage: StageName, index: number): string {
  if (stage === 'census') {
    const spec = run.census[index];
    if (!spec) return '';
    if (spec.partition) return ` (partition ${spec.partition.index} of source "${spec.source}")`;
    return spec.inputs.length ? ` (input ${spec.inputs.map((i) => run.inputs[i].relPath).join(', ')})` : '';
  }
  if (stage === 'group') {
    const spec = run.group[index];
    return spec ? ` (input ${run.inputs[spec.input].relPath})` : '';
  }
  return stage === 'write' ? ` (shard ${index})` : '';
}

/** File-system error codes that mean the machine, not the data: a full disk, a quota, a read-only or failing device. */
const RESOURCE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EMFILE', 'ENFILE']);

/**
 * A file-system error of a unit as one located message: the stage and unit, the file, the phase's
 * directory, and what to do; other errors as they are.
 */
export function locateSystemError(error: unknown, what: string, dir: string): unknown {
  const e = error as NodeJS.ErrnoException;
  if (!(error instanceof Error) || typeof e.code !== 'string' || !RESOURCE_ERRORS.has(e.code)) return error;
  const file = e.path ? ` ${e.path}` : '';
  const fix =
    e.code === 'ENOSPC' || e.code === 'EDQUOT'
      ? `free space on the file system of ${dir} (or give --work on another) and run the same command again: units already done are kept, this one's temporaries were removed`
      : 'fix the device and run the same command again: units already done are kept';
  return new PipelineError(`${what}: ${e.code} while writing${file}: ${e.message}; ${fix}`, { code: e.code, path: e.path, dir }, { cause: error });
}

/** What a group unit's completion record carries besides its entries file. */
export type GroupResult = Omit<GroupUnitResult, 'input'> & { input: InputIdentity };

/** Runs group unit `index`: its StarCoder file's rows into `gNNNNN.entries.jsonl`, by partition. */
export function runGroup(run: RunRecord, index: number, onRawBytes?: (bytes: number) => void): Promise<CompletionRecord> {
  return attempt(run, 'group', index, async (dir, name, tmp) => {
    const spec = run.group[index];
    const source = run.recipe.sources.find((s) => s.name === spec.source)!;
    const file = `${name}.entries.jsonl`;
    const result = await runGroupUnit(
      { recipe: run.recipe, source, file: run.inputs[spec.input], partitions: spec.partitions, baseDir: run.baseDir },
      tmp(file),
      onRawBytes,
    );
    await rename(tmp(file), path.join(dir, file));
    return { outputs: { [file]: await digestFile(path.join(dir, file)) }, result: result satisfies GroupResult };
  });
}

/** The partition ranges a partition census unit reads, from its group units' completion records. */
async function partitionRanges(run: RunRecord, partition: { index: number; groupUnits: number[] }): Promise<PartitionRange[]> {
  const ranges: PartitionRange[] = [];
  for (const g of partition.groupUnits) {
    const record = await doneRecord(run, 'group', g);
    if (!record) throw new PipelineError(`group unit ${unitName('group', g)} is not done; run the group stage first`, { unit: g });
    const { offsets } = record.result as GroupResult;
    ranges.push({
      file: path.join(stageDir(run, 'group'), `${unitName('group', g)}.entries.jsonl`),
      start: offsets[partition.index],
      end: offsets[partition.index + 1],
    });
  }
  return ranges;
}

/**
 * Runs census unit `index`: reads and tokenizes its input file (or its StarCoder partition) into
 * `uNNNNN.tokens` and `uNNNNN.docs.arrow` (src/census/docTable.ts); its counts and input identities go into the completion record.
 */
export function runCensus(run: RunRecord, index: number, tokenizer: Tokenizer, onProgress?: (p: CensusUnitProgress) => void): Promise<CompletionRecord> {
  return attempt(run, 'census', index, async (dir, name, tmp) => {
    const spec = run.census[index];
    const source = run.recipe.sources.find((s) => s.name === spec.source)!;
    const cells = cellsOfSource(run, spec.source);
    const tokensFile = `${name}.tokens`;
    const docsFile = `${name}.docs.arrow`;
    const writer = await TokenFileWriter.create(tmp(tokensFile));
    const started = process.hrtime.bigint();
    let result;
    try {
      result = spec.partition
        ? await runPartitionUnit({ recipe: run.recipe, source, cells, ranges: await partitionRanges(run, spec.partition) }, tokenizer, writer, onProgress)
        : await runCensusUnit(
            { recipe: run.recipe, source, cells, files: spec.inputs.map((i) => run.inputs[i]), baseDir: run.baseDir },
            tokenizer,
            writer,
            onProgress,
          );
    } finally {
      await writer.close();
    }
    await faultPoint(`census:${name}:tokens-written`);
    await rename(tmp(tokensFile), path.join(dir, tokensFile));
    await writeAtomic(path.join(dir, docsFile), encodeDocTable(result.docs, run.recipe.seed, spec.source));
    const outputs = { [tokensFile]: await digestFile(path.join(dir, tokensFile)), [docsFile]: await digestFile(path.join(dir, docsFile)) };
    const censusResult: CensusResult = { counts: result.counts, inputs: result.inputs, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
    return { outputs, result: censusResult };
  });
}

/**
 * Reads what the plan needs of every census unit, in unit order, checking each output against
 * its completion record.
 * @throws PipelineError naming the first unit that is not done or whose outputs do not match.
 */
export async function censusUnits(run: RunRecord): Promise<{ units: UnitCensus[]; inputs: InputIdentity[]; reading: Map<string, SourceReading> }> {
  const units: UnitCensus[] = [];
  const inputs: InputIdentity[] = [];
  // Only the units of each source's prefix count (early stop): the same whatever was read past it.
  const used = new Set<number>();
  const reading = new Map<string, SourceReading>();
  for (const prefix of await usedPrefixes(run)) {
    if (prefix.used === null)
      throw new PipelineError(
        `the census of source "${prefix.source}" is not done: its read order has units without a completion record before its budgets are met; run the census stage first`,
        { source: prefix.source },
      );
    for (const u of prefix.order.slice(0, prefix.used)) used.add(u);
    const config = run.recipe.sources.find((s) => s.name === prefix.source)!;
    reading.set(prefix.source, { units: prefix.order.length, used: prefix.used, stop: prefix.reason!, oversample: config.oversample });
  }
  // Group units read StarCoder files: their identities and counts (bad records, skipped input)
  // belong to their source like a census unit's; they hold no document.
  const groupInputs = new Map<string, InputIdentity[]>();
  for (let g = 0; g < run.group.length; g++) {
    const record = await doneRecord(run, 'group', g);
    if (!record) throw new PipelineError(`group unit ${unitName('group', g)} (${run.group[g].source}) is not done; run the group stage first`, { unit: g });
    const result = record.result as GroupResult;
    units.push({ unit: -1, source: run.group[g].source, counts: result.counts, docs: emptyDocColumns() });
    groupInputs.set(run.group[g].source, [...(groupInputs.get(run.group[g].source) ?? []), result.input]);
  }
  for (let i = 0; i < run.census.length; i++) {
    if (!used.has(i)) continue;
    const grouped = groupInputs.get(run.census[i].source);
    if (grouped) {
      inputs.push(...grouped);
      groupInputs.delete(run.census[i].source);
    }
    const record = await doneRecord(run, 'census', i);
    if (!record) throw new PipelineError(`census unit ${unitName('census', i)} (${run.census[i].source}) is not done; run the census stage first`, { unit: i });
    const name = unitName('census', i);
    const docsFile = path.join(stageDir(run, 'census'), `${name}.docs.arrow`);
    const bytes = await readFile(docsFile);
    if (sha256Hex(bytes) !== record.outputs[`${name}.docs.arrow`]?.sha256) {
      throw new PipelineError(`${docsFile}: differs from its completion record; rerun the build with --restart`, { unit: i });
    }
    const result = record.result as CensusResult;
    units.push({
      unit: i,
      source: run.census[i].source,
      counts: result.counts,
      docs: decodeDocTable(bytes, docsFile, { source: run.census[i].source, seed: run.recipe.seed }),
    });
    // In unit order, which is listing order: each unit's files, then the files read beside them.
    inputs.push(...result.inputs);
  }
  return { units, inputs, reading };
}

/**
 * Runs the plan: the manifest without shard infos, and one rows file per shard.
 * @param onProgress - documents selected and rows packed so far (src/plan/select.ts `planBuild`).
 */
export function runPlan(run: RunRecord, onProgress?: (p: PlanProgress) => void): Promise<CompletionRecord> {
  return attempt(run, 'plan', 0, async (dir) => {
    const { units, inputs, reading } = await censusUnits(run);
    // Files per source: those of the units the build uses.
    const files = new Map<string, number>();
    for (const input of inputs) if (!input.role) files.set(input.source, (files.get(input.source) ?? 0) + 1);
    // The rows the free disk space can hold, to refuse absurd budgets before selecting.
    const free = await freeBytes(run.workDir);
    const perRow = writeBytesEstimate(run, 1);
    const maxRows =
      free === null
        ? undefined
        : {
            rows: Math.floor(free / perRow),
            why: `a row takes about ${perRow.toLocaleString('en-US')} bytes of shards and exports in ${run.workDir}, where ${free.toLocaleString('en-US')} bytes are free`,
          };
    const plan = planFromCensus(loadedOf(run), run.tokenizer, units, inputs, files, maxRows, reading, onProgress);
    const outputs: CompletionRecord['outputs'] = {};
    const put = async (file: string, text: string) => {
      await writeAtomic(path.join(dir, file), text);
      outputs[file] = { sizeBytes: Buffer.byteLength(text), sha256: sha256Hex(text) };
    };
    for (const shard of plan.shards) await put(`${unitName('write', shard.index)}.rows.json`, plan.shardJson(shard.index));
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
