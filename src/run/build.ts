/**
 * `build-mix`: recipe → read → tokenize → select → pack → write → manifest.
 *
 * Pass 1 ({@link takeCensus}) reads and tokenizes every document once; in-cell documents go to a
 * token spill file. Then pure planners choose documents per cell budget and pack rows; pass 2
 * writes shards from the spill; the manifest is written last. Same recipe, inputs and tokenizer
 * ⇒ same bytes, whatever the worker count.
 */
import { readdirSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import type { LoadedRecipe } from '../config/load.ts';
import { BudgetError, InputError, PipelineError } from '../core/errors.ts';
import { TOOL } from '../core/version.ts';
import { LOCK_FILE, lockOutDir, type OutDirLock } from '../manifest/lock.ts';
import { MANIFEST_FILE, writeManifest } from '../manifest/write.ts';
import { assembleManifest } from '../plan/assemble.ts';
import type { InputIdentity, Manifest } from '../manifest/types.ts';
import { planPacking, type PackDoc, type PackPlan } from '../pack/plan.ts';
import { expandPaths } from '../read/files.ts';
import type { ResolvedSource } from '../read/index.ts';
import { planCellSelection, type CellSelection } from '../select/plan.ts';
import { buildTokenizerSpec } from '../tokenize/registry.ts';
import { TokenizerPool } from '../tokenize/pool.ts';
import type { TokenizerSpec } from '../tokenize/tokenizer.ts';
import { commitShards, sha256File } from '../shard/writer.ts';
import { writeRows } from '../write/index.ts';
import { planSchedule, planShards, type Schedule } from '../plan/schedule.ts';
import { takeCensus, type BuildProgress, type Census } from '../census/census.ts';
import type { CellAccount } from '../manifest/ledger.ts';
import { fillToleranceTokens, maxExtraTokens, MAX_FILL_EVALUATIONS, raisesFor, searchFill } from '../plan/fill.ts';
import { TokenSpill } from '../census/spill.ts';

export type { BuildProgress };

/** Options of one build. */
export interface BuildOptions {
  loaded: LoadedRecipe;
  /** Output directory (created if missing). */
  outDir: string;
  /** Tokenizer worker threads, >= 1. */
  workers: number;
  onProgress?: (progress: BuildProgress) => void;
  /** A prebuilt tokenizer spec (tests reuse one); built from the recipe's tokenizer otherwise. */
  tokenizerSpec?: TokenizerSpec;
  /**
   * The output directory's lock, when the caller holds it over more than the build (the CLI keeps
   * it through the exports); otherwise the build takes and drops its own ({@link openOutDir}).
   */
  lock?: OutDirLock;
}

/** The result of a build: its manifest and where it is. */
export interface BuildResult {
  outDir: string;
  manifest: Manifest;
}

/** Default best-fit buffer: 64 rows' worth of tokens. */
export function bufferTokensOf(loaded: LoadedRecipe): number {
  return loaded.recipe.packing.bufferTokens ?? 64 * loaded.recipe.rowTokens;
}

/** Expands every source's paths and hashes its files (before anything is written). */
export async function resolveInputs(loaded: LoadedRecipe): Promise<{ sources: ResolvedSource[]; inputs: InputIdentity[] }> {
  const sources: ResolvedSource[] = [];
  const inputs: InputIdentity[] = [];
  const owner = new Map<string, { source: string; relPath: string }>();
  for (const config of loaded.recipe.sources) {
    const files = await expandPaths(config.name, config.paths, loaded.baseDir, undefined, config.maxFiles);
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
    }
    sources.push({ config, files, baseDir: loaded.baseDir });
    for (const file of files) {
      // A hub file's identity is the hub's own: its LFS sha256 (or git blob id as ETag), never a download.
      if (file.hub) inputs.push({ source: config.name, path: file.relPath, sizeBytes: file.sizeBytes, sha256: file.hub.sha256, etag: file.hub.etag });
      // (a plain URL's identity is its URL, size and the server's ETag)
      else inputs.push({ source: config.name, path: file.relPath, sizeBytes: file.sizeBytes, sha256: await sha256File(file.absPath), etag: null });
    }
  }
  return { sources, inputs };
}

/** Temporary files of a build, removed on any exit (see {@link removeTemporariesSync}). */
const TEMPORARY = /^(shard-\d{5,}\.arrow|manifest\.json|tokens\.spill)\.tmp$/;

/**
 * Creates the output directory and takes its lock ({@link lockOutDir}): one build per directory.
 * @throws PipelineError naming the directory when it cannot be created, or another build holds it.
 */
export async function openOutDir(outDir: string): Promise<OutDirLock> {
  try {
    await mkdir(outDir, { recursive: true });
  } catch (error) {
    throw new PipelineError(`Cannot use output directory ${outDir}: ${(error as Error).message}`, { outDir }, { cause: error });
  }
  return lockOutDir(outDir);
}

/** Names a longmix build may leave in an output directory that holds no manifest yet: its lock and temporaries. */
function isLongmixLeftover(name: string): boolean {
  return name === LOCK_FILE || name === `${LOCK_FILE}.takeover` || TEMPORARY.test(name);
}

/**
 * Reads the manifest already in `outDir`, if any.
 * @returns null when there is none.
 * @throws PipelineError naming the file when it is not a longmix manifest.
 */
async function previousManifest(outDir: string): Promise<Manifest | null> {
  const file = path.join(outDir, MANIFEST_FILE);
  const existing = await readFile(file, 'utf8').catch(() => null);
  if (existing === null) return null;
  let parsed: Partial<Manifest> | null = null;
  try {
    parsed = JSON.parse(existing) as Partial<Manifest>;
  } catch {
    parsed = null;
  }
  if (parsed?.tool?.name !== TOOL.name || !Array.isArray(parsed.shards))
    throw new PipelineError(`${file} is not a longmix manifest; choose another --out directory`, { outDir });
  return parsed as Manifest;
}

/**
 * Makes a locked output directory ready: refuses a directory that holds files but no longmix
 * build (a user's directory is theirs), or whose manifest.json is not a longmix manifest, and
 * removes temporaries a killed build left. A previous build stays in place until the new one
 * commits.
 * @returns the previous build's manifest, or null.
 * @throws PipelineError naming the directory and what it holds.
 */
export async function prepareOutDir(outDir: string): Promise<Manifest | null> {
  const previous = await previousManifest(outDir);
  if (previous === null) {
    const foreign = (await readdir(outDir)).filter((name) => !isLongmixLeftover(name)).sort();
    if (foreign.length > 0) {
      const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, … (${foreign.length} entries)` : '');
      throw new PipelineError(
        `Output directory ${outDir} is not empty and holds no longmix build (it holds ${shown}); longmix writes only into a new or empty directory, or one a longmix build wrote. Choose another --out.`,
        { outDir },
      );
    }
  }
  removeTemporariesSync(outDir);
  return previous;
}

/**
 * What a manifest says belongs to its build, relative to the output directory: its shards and
 * the export directories it lists (`exports`). Nothing else in the directory is longmix's.
 */
export function buildFilesOf(manifest: Manifest): { files: string[]; exportDirs: string[] } {
  const files = manifest.shards.map((s) => s.file).filter((f) => /^shard-\d{5,}\.arrow$/.test(f));
  const exportDirs = Object.values(manifest.exports ?? {}).filter((d): d is string => typeof d === 'string' && /^(hf|megatron)$/.test(d));
  return { files, exportDirs };
}

/**
 * Commits a finished build: removes the previous manifest (the directory stops being a build),
 * then the previous build's shards and exports (only those its manifest lists), renames the new
 * shards into place, and writes the manifest last.
 */
async function commitBuild(outDir: string, manifest: Manifest, previous: Manifest | null): Promise<void> {
  await rm(path.join(outDir, MANIFEST_FILE), { force: true });
  if (previous) {
    const { files, exportDirs } = buildFilesOf(previous);
    for (const name of files) await rm(path.join(outDir, name), { force: true });
    for (const dir of exportDirs) await rm(path.join(outDir, dir), { recursive: true, force: true });
  }
  await commitShards(outDir, manifest.shards);
  await writeManifest(outDir, manifest);
}

/**
 * Removes the temporaries of a build in `outDir`: spill, unfinished shards, unfinished manifest.
 * Never touches finished files. Synchronous, so a signal handler (where no promise will run) can
 * call it too.
 */
export function removeTemporariesSync(outDir: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(outDir);
  } catch {
    return;
  }
  for (const name of names) if (TEMPORARY.test(name)) rmSync(path.join(outDir, name), { force: true });
}

/** The account of cell `i` of the census (cells and accounts come from the same recipe sources). */
function cellAccount(census: Census, i: number): CellAccount {
  const cell = census.cells[i];
  return census.accounts[cell.source].cells.find((c) => c.bucket === cell.bucket)!;
}

/** Selection and packing for given per-cell plan raises (tokens), without touching the accounts. */
function selectAndPack(loaded: LoadedRecipe, census: Census, raise: readonly number[]): { plan: PackPlan; selections: CellSelection[] } {
  const { recipe } = loaded;
  const packDocs: PackDoc[] = [];
  const selections = census.cells.map((cell, i) => {
    const planned = cell.plannedTokens === 'all' || raise[i] === 0 ? cell.plannedTokens : cell.plannedTokens + raise[i];
    const selection = planCellSelection({ ...cell, plannedTokens: planned }, census.candidates[i], recipe.seed);
    const byIndex = new Map(census.candidates[i].map((c) => [c.index, c]));
    for (const { index, repeat } of selection.selected) {
      packDocs.push({
        doc: index,
        source: cell.source,
        id: census.docs[index].id,
        repeat,
        cell: i,
        lengthTokens: byIndex.get(index)!.lengthTokens,
        window: cell.window,
      });
    }
    return selection;
  });
  const plan = planPacking(packDocs, {
    rowTokens: recipe.rowTokens,
    originalWindowTokens: recipe.originalWindowTokens,
    seed: recipe.seed,
    bufferTokens: bufferTokensOf(loaded),
    longDocPolicy: recipe.packing.longDocPolicy,
    shortDocPolicy: recipe.packing.shortDocPolicy,
    fillerSource: recipe.packing.longRowFiller,
    cellCount: census.cells.length,
  });
  return { plan, selections };
}

/**
 * Selects per cell and plans the packing; fills the accounts' selection and packing counts.
 *
 * `lastBatchPolicy: fill`: the numeric budgets are raised by the smallest amount, shared in
 * proportion to each cell's plan and capped by what the cell holds, whose packing fills whole
 * global batches ({@link searchFill}); each cell reports its raise as `raisedTokens`. When no such
 * raise exists, nothing is raised and the rows left over are dropped and counted, as under `drop`.
 * @throws BudgetError naming the first cell whose plan cannot be met.
 */
export function planBuild(loaded: LoadedRecipe, census: Census): PackPlan {
  const { recipe } = loaded;
  const zero = census.cells.map(() => 0);
  let { plan, selections } = selectAndPack(loaded, census, zero);
  let raise = zero;
  if (recipe.output.lastBatchPolicy === 'fill' && plan.rows.length % recipe.output.globalBatchRows !== 0) {
    const cells = census.cells.map((cell, i) => {
      if (cell.plannedTokens === 'all') return { planned: null, capRaise: 0 };
      return { planned: cell.plannedTokens, capRaise: Math.max(0, Math.floor(selections[i].availableTokens * cell.maxRepetition) - cell.plannedTokens) };
    });
    const found = searchFill(
      (extraTokens) => (extraTokens === 0 ? plan.rows.length : selectAndPack(loaded, census, raisesFor(cells, extraTokens)).plan.rows.length),
      {
        globalBatchRows: recipe.output.globalBatchRows,
        maxExtraTokens: maxExtraTokens(cells),
        rowTokens: recipe.rowTokens,
        maxEvaluations: MAX_FILL_EVALUATIONS,
        toleranceTokens: fillToleranceTokens(recipe.rowTokens),
      },
    );
    if (found.extraTokens > 0) {
      // Planned once more rather than keeping every tried plan: memory stays one plan.
      raise = raisesFor(cells, found.extraTokens);
      ({ plan, selections } = selectAndPack(loaded, census, raise));
    }
  }
  census.cells.forEach((cell, i) => {
    const source = census.accounts[cell.source];
    const account = cellAccount(census, i);
    const selection = selections[i];
    const counts = plan.cells[i];
    account.raisedTokens = raise[i];
    account.achieved = { documents: selection.achievedDocuments, tokens: selection.achievedTokens };
    account.repeatedTokens = selection.repeatedTokens;
    account.dropped.over_budget = { documents: selection.overBudgetDocuments, tokens: selection.overBudgetTokens };
    account.splitDocuments = counts.splitDocuments;
    account.dropped.truncated = { documents: counts.truncatedDocuments, tokens: counts.truncatedTokens };
    account.padTokens = counts.padTokens;
    account.fillerTokens = counts.fillerTokens;
    account.placedTokens = account.achieved.tokens - counts.truncatedTokens;
    source.placed.documents += account.achieved.documents;
    source.placed.tokens += account.placedTokens;
  });
  return plan;
}

/**
 * Moves the tokens of rows left out of the last global batch from `placed` to `dropped.last_batch`,
 * and padding of those rows out of the cells' padding.
 */
export function applyLastBatch(census: Census, plan: PackPlan, schedule: Schedule): void {
  for (const rowIndex of schedule.dropped) {
    const row = plan.rows[rowIndex];
    let longest = row.pieces[0];
    for (const piece of row.pieces) {
      const cell = census.cells[piece.cell];
      const source = census.accounts[cell.source];
      const account = cellAccount(census, piece.cell);
      account.dropped.last_batch.documents++;
      account.dropped.last_batch.tokens += piece.lengthTokens;
      account.placedTokens -= piece.lengthTokens;
      source.placed.tokens -= piece.lengthTokens;
      if (piece.startToken === 0) source.placed.documents--;
      if (piece.lengthTokens > longest.lengthTokens) longest = piece;
    }
    cellAccount(census, longest.cell).padTokens -= row.numPad;
  }
}

/**
 * Runs a whole build. It holds the output directory's lock throughout (its own, or `options.lock`).
 * @throws InputError on a missing input file or a bad record, BudgetError on an unsatisfiable
 *   budget, PipelineError on an unusable output directory or one another build is writing. Shards are written under temporary
 *   names and committed only at the end, so after any of these a previous build in the directory
 *   is untouched and no temporary file remains.
 */
export async function buildMix(options: BuildOptions): Promise<BuildResult> {
  const { loaded } = options;
  const { recipe } = loaded;
  const spec = options.tokenizerSpec ?? (await buildTokenizerSpec(recipe.tokenizer));
  const { sources, inputs } = await resolveInputs(loaded);
  const ownLock = options.lock ? null : await openOutDir(options.outDir);
  try {
    const previous = await prepareOutDir(options.outDir);
    return await buildInLockedDir(options, spec, sources, inputs, previous);
  } finally {
    ownLock?.release();
  }
}

/** The build proper, in an output directory this process holds the lock of. */
async function buildInLockedDir(
  options: BuildOptions,
  spec: TokenizerSpec,
  sources: ResolvedSource[],
  inputs: InputIdentity[],
  previous: Manifest | null,
): Promise<BuildResult> {
  const { loaded } = options;
  const { recipe } = loaded;
  const totalInputBytes = inputs.reduce((sum, i) => sum + i.sizeBytes, 0);
  const progress: BuildProgress = { phase: 'tokenize', documents: 0, tokens: 0, rows: 0, totalRows: 0, inputBytes: 0, totalInputBytes };
  const spill = await TokenSpill.create(path.join(options.outDir, 'tokens.spill.tmp'));
  const pool = new TokenizerPool(spec, options.workers);
  try {
    const census = await takeCensus(recipe, sources, pool, spill, progress, options.onProgress);
    await pool.close();
    const plan = planBuild(loaded, census);
    const { output } = recipe;
    const schedule = planSchedule(
      plan.rows.map((r) => r.window),
      output.globalBatchRows,
      recipe.seed,
    );
    applyLastBatch(census, plan, schedule);
    if (schedule.order.length === 0) {
      throw new BudgetError(
        `No row to write: ${plan.rows.length} rows were packed, fewer than one global batch of ${output.globalBatchRows} rows; lower output.globalBatchRows (and worldSize) or raise the budgets`,
        { rows: plan.rows.length, globalBatchRows: output.globalBatchRows },
      );
    }
    const shardPlans = planShards(schedule.order.length, output.globalBatchRows, output.worldSize, recipe.rowTokens, output.targetShardBytes);
    progress.phase = 'write';
    progress.totalRows = schedule.order.length;
    const shards = await writeRows(plan, shardPlans, schedule.order, census.docs, spill, {
      outDir: options.outDir,
      rowTokens: recipe.rowTokens,
      longRowAttention: recipe.packing.longRowAttention,
      padId: spec.identity.padId,
      rowsPerBatch: recipe.output.rowsPerBatch,
      shardMetadata: {
        recipeHash: loaded.hash,
        rowTokens: recipe.rowTokens,
        originalWindowTokens: recipe.originalWindowTokens,
        longRowAttention: recipe.packing.longRowAttention,
        tokenizer: spec.identity.name,
        vocabularySha256: spec.identity.vocabularySha256,
        tool: `${TOOL.name}@${TOOL.version}`,
      },
      onRow: (rows: number) => {
        progress.rows = rows;
        options.onProgress?.(progress);
      },
    });
    const manifest = assembleManifest(loaded, spec.identity, inputs, census.accounts, plan, schedule, shardPlans, shards, bufferTokensOf(loaded));
    await commitBuild(options.outDir, manifest, previous);
    return { outDir: options.outDir, manifest };
  } catch (error) {
    // No half-written shard stays behind: the previous build, if any, is untouched.
    removeTemporariesSync(options.outDir);
    throw error;
  } finally {
    await pool.close();
    await spill.dispose();
  }
}
