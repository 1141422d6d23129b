/**
 * The run record, `<work>/run.json`: written once when a build starts, it pins what the build is
 * made of (the resolved recipe and its hash, the tokenizer's identity, the export formats, every
 * input's identity as listed) and the units of its census stage. Every task of every executor
 * reads the build from it (never from the recipe file, which may change meanwhile), and a rerun
 * compares itself with it: the same run resumes, a different one is refused, naming what changed.
 *
 * `runId` is the SHA-256 of the record's canonical JSON without `runId`, `outDir` and `workDir`
 * (where the build goes does not change its bytes); unit fingerprints derive from it.
 */
import { realpath, stat } from 'node:fs/promises';
import type { LoadedRecipe } from '../config/load.ts';
import { manifestRecipe } from '../config/load.ts';
import { sourceCells } from '../config/cells.ts';
import type { Recipe } from '../config/schema.ts';
import { InputError } from '../core/errors.ts';
import { stableHash } from '../core/stableJson.ts';
import { TOOL } from '../core/version.ts';
import { expandPaths, type InputFile } from '../read/files.ts';
import { starcoderPartitions } from '../read/datasets/starcoder.ts';
import type { TokenizerIdentity } from '../tokenize/tokenizer.ts';

/** One input file as listed when the run started. */
export interface RunInput extends InputFile {
  source: string;
  /** Modification time of a local file, milliseconds since the epoch (null for remote files). */
  mtimeMs: number | null;
}

/** One unit of the census stage: the input file it reads (an index into `inputs`), or a StarCoder repository partition. */
export interface CensusUnitSpec {
  /** `u` + 5-digit index: the unit's name in the work directory. */
  name: string;
  source: string;
  /** Input files read (one), or none for a partition unit. */
  inputs: number[];
  /** For a StarCoder source grouped by repository: partition `index` of the group units `groupUnits` (indices into `group`). */
  partition?: { index: number; groupUnits: number[] };
}

/** One unit of the group stage (StarCoder repository grouping): one input file, shuffled into `partitions` partitions. */
export interface GroupUnitSpec {
  /** `g` + 5-digit index. */
  name: string;
  source: string;
  input: number;
  partitions: number;
}

/**
 * Format of the run record and of the work directory it describes. 2: census document tables are
 * Arrow files with order keys (`uNNNNN.docs.arrow`, src/census/docTable.ts); 1 (older longmix):
 * `uNNNNN.docs.json`. A work directory of another format is refused, never resumed.
 */
export const RUN_FORMAT = 'longmix-run/2';

/** `<work>/run.json`. */
export interface RunRecord {
  format: typeof RUN_FORMAT;
  tool: { name: string; version: string };
  /** The recipe file the run was started from (absolute; for messages). */
  recipeFile: string;
  /** Directory that relative sibling paths resolve from (absolute). */
  baseDir: string;
  recipeHash: string;
  /** The resolved recipe (every default filled in, without output.dir). */
  recipe: Recipe;
  tokenizer: TokenizerIdentity;
  /** Export formats the build writes besides the native shards (`hf`, `megatron`). */
  formats: string[];
  inputs: RunInput[];
  /** Units of the group stage (empty unless a StarCoder source groups repositories). */
  group: GroupUnitSpec[];
  census: CensusUnitSpec[];
  /** Output directory (absolute). */
  outDir: string;
  /** Work directory (absolute). */
  workDir: string;
  runId: string;
}

/** Computes a record's `runId` (see the file header). */
export function runIdOf(record: Omit<RunRecord, 'runId'> | RunRecord): string {
  const { outDir: _out, workDir: _work, runId: _id, ...rest } = record as RunRecord;
  return stableHash(rest);
}

/** Unit name of census unit `index`. */
export const censusUnitName = (index: number) => `u${String(index).padStart(5, '0')}`;

/**
 * Lists every source's files (sorted; see `expandPaths`) with their identities, and the units: one
 * census unit per file, except for a StarCoder source grouped by repository, which has one group
 * unit per file and one census unit per repository partition (src/census/group.ts).
 * @throws InputError when a path matches nothing or one file is an input twice (also through a symlink).
 */
export async function listInputs(loaded: LoadedRecipe): Promise<{ inputs: RunInput[]; group: GroupUnitSpec[]; census: CensusUnitSpec[] }> {
  const inputs: RunInput[] = [];
  const group: GroupUnitSpec[] = [];
  const census: CensusUnitSpec[] = [];
  const owner = new Map<string, { source: string; relPath: string }>();
  for (const config of loaded.recipe.sources) {
    const files = await expandPaths(config.name, config.paths, loaded.baseDir, undefined, config.maxFiles);
    const first = inputs.length;
    for (const file of files) {
      // Local files are compared by their real path, so a symlink cannot bring a file in twice.
      const key = file.hub ? file.relPath : await realpath(file.absPath);
      const other = owner.get(key);
      if (other !== undefined) {
        const twice =
          other.source === config.name ? `listed twice in source "${config.name}"` : `an input of both source "${other.source}" and source "${config.name}"`;
        const which = other.relPath === file.relPath ? `${file.relPath} is` : `${other.relPath} and ${file.relPath} are the same file,`;
        throw new InputError(`${which} ${twice}: its documents would be used twice`, { file: file.relPath });
      }
      owner.set(key, { source: config.name, relPath: file.relPath });
      const mtimeMs = file.hub ? null : (await stat(file.absPath)).mtimeMs;
      inputs.push({ ...file, source: config.name, mtimeMs });
    }
    const indices = files.map((_, i) => first + i);
    if (config.dataset === 'starcoder' && config.repositories) {
      const partitions = starcoderPartitions(
        files.reduce((s, f) => s + f.sizeBytes, 0),
        config.repositories.partitionBytes,
      );
      const groupUnits = indices.map((input) => group.push({ name: `g${String(group.length).padStart(5, '0')}`, source: config.name, input, partitions }) - 1);
      for (let k = 0; k < partitions; k++)
        census.push({ name: censusUnitName(census.length), source: config.name, inputs: [], partition: { index: k, groupUnits } });
    } else for (const i of indices) census.push({ name: censusUnitName(census.length), source: config.name, inputs: [i] });
  }
  return { inputs, group, census };
}

/** Builds the run record of a build. */
export async function createRunRecord(
  loaded: LoadedRecipe,
  tokenizer: TokenizerIdentity,
  formats: readonly string[],
  outDir: string,
  workDir: string,
): Promise<RunRecord> {
  const { inputs, group, census } = await listInputs(loaded);
  const record: Omit<RunRecord, 'runId'> = {
    format: RUN_FORMAT,
    tool: { ...TOOL },
    recipeFile: loaded.file,
    baseDir: loaded.baseDir,
    recipeHash: loaded.hash,
    recipe: manifestRecipe(loaded.recipe) as Recipe,
    tokenizer,
    formats: [...formats].sort(),
    inputs,
    group,
    census,
    outDir,
    workDir,
  };
  return { ...record, runId: runIdOf(record) };
}

/** The recipe of a run record as a loaded recipe (what stages take). */
export function loadedOf(run: RunRecord): LoadedRecipe {
  return { recipe: run.recipe, baseDir: run.baseDir, file: run.recipeFile, hash: run.recipeHash };
}

/** The cells of `source` in a run (bucket order). */
export function cellsOfSource(run: RunRecord, source: string) {
  const config = run.recipe.sources.find((s) => s.name === source)!;
  return sourceCells(config, run.recipe.scale);
}

/**
 * What differs between the run in a work directory (`before`) and the one asked for now
 * (`now`), one line per difference; empty when they are the same run.
 */
export function runDifferences(before: RunRecord, now: RunRecord): string[] {
  const out: string[] = [];
  if (before.tool.version !== now.tool.version) out.push(`longmix version ${before.tool.version} → ${now.tool.version}`);
  if (before.recipeHash !== now.recipeHash) {
    const keys = new Set([...Object.keys(before.recipe), ...Object.keys(now.recipe)]);
    const changed = [...keys].filter(
      (k) => stableHash((before.recipe as Record<string, unknown>)[k] ?? null) !== stableHash((now.recipe as Record<string, unknown>)[k] ?? null),
    );
    out.push(`recipe changed (${changed.map((k) => `"${k}"`).join(', ') || 'hash'})`);
  }
  if (before.tokenizer.vocabularySha256 !== now.tokenizer.vocabularySha256 || before.tokenizer.name !== now.tokenizer.name) {
    out.push(
      `tokenizer ${before.tokenizer.name} (${before.tokenizer.vocabularySha256.slice(0, 12)}) → ${now.tokenizer.name} (${now.tokenizer.vocabularySha256.slice(0, 12)})`,
    );
  }
  if (before.formats.join(',') !== now.formats.join(',')) out.push(`export formats [${before.formats.join(', ')}] → [${now.formats.join(', ')}]`);
  const key = (i: RunInput) => `${i.source}\u0000${i.relPath}`;
  const old = new Map(before.inputs.map((i) => [key(i), i]));
  const cur = new Map(now.inputs.map((i) => [key(i), i]));
  const shown: string[] = [];
  for (const [k, i] of cur) {
    const o = old.get(k);
    if (!o) shown.push(`new input ${i.relPath} (source "${i.source}")`);
    else if (
      o.sizeBytes !== i.sizeBytes ||
      o.mtimeMs !== i.mtimeMs ||
      (o.hub?.etag ?? null) !== (i.hub?.etag ?? null) ||
      (o.hub?.sha256 ?? null) !== (i.hub?.sha256 ?? null)
    ) {
      shown.push(`input ${i.relPath} changed (${o.sizeBytes} → ${i.sizeBytes} bytes${o.mtimeMs !== i.mtimeMs ? ', modified since' : ''})`);
    }
  }
  for (const [k, o] of old) if (!cur.has(k)) shown.push(`input ${o.relPath} (source "${o.source}") is gone`);
  out.push(...shown.slice(0, 10));
  if (shown.length > 10) out.push(`… and ${shown.length - 10} more input changes`);
  return out;
}
