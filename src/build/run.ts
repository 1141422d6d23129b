/**
 * `build-mix`: recipe → read → tokenize → select → pack → write → manifest.
 *
 * Pass 1 reads every source and tokenizes every document once (worker pool, order kept);
 * in-range documents go to a token spill file, the rest are counted as `length_filter`.
 * Then pure planners choose documents per budget and pack rows; pass 2 writes shards from the
 * spill; the manifest is written last. Same recipe, inputs and tokenizer ⇒ same bytes, whatever
 * the worker count.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { manifestRecipe, type LoadedRecipe } from '../config/load.ts';
import { InputError } from '../core/errors.ts';
import type { BadRecord, Doc } from '../core/doc.ts';
import { TOOL } from '../core/version.ts';
import { MANIFEST_FILE, writeManifest } from '../manifest/write.ts';
import type { InputIdentity, Manifest } from '../manifest/types.ts';
import { planPacking, type PackDoc } from '../pack/plan.ts';
import { expandPaths } from '../read/files.ts';
import { readSources, type ResolvedSource } from '../read/index.ts';
import { planSourceSelection, type Candidate } from '../select/plan.ts';
import { buildLlama3Spec } from '../tokenize/llama3.ts';
import { TokenizerPool } from '../tokenize/pool.ts';
import type { TokenizerSpec } from '../tokenize/tokenizer.ts';
import { sha256File } from '../write/arrowShard.ts';
import { writeRows, type WriteDoc } from '../write/index.ts';
import { addDoc, newAccount, type SourceAccount } from './accounting.ts';
import { TokenSpill } from './spill.ts';

/** Counters reported while a build runs (for a progress display). */
export interface BuildProgress {
  phase: 'tokenize' | 'write';
  documents: number;
  tokens: number;
  rows: number;
  totalRows: number;
  /** Input bytes consumed (compressed size for compressed files). */
  inputBytes: number;
  totalInputBytes: number;
}

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
}

/** The result of a build: its manifest and where it is. */
export interface BuildResult {
  outDir: string;
  manifest: Manifest;
}

/** Removes a previous build's manifest (first: the directory stops being a build), shards and temporaries. */
async function prepareOutDir(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await rm(path.join(outDir, MANIFEST_FILE), { force: true });
  for (const name of await readdir(outDir)) {
    if (/^shard-\d{5,}\.arrow(\.tmp)?$/.test(name) || name.endsWith('.tmp')) await rm(path.join(outDir, name), { force: true });
  }
}

function badRecordError(bad: BadRecord): InputError {
  return new InputError(
    `${bad.where}: ${bad.detail} (source "${bad.source}", reason ${bad.reason}); fix the record, or set onBadRecord: skip to skip and count such records`,
    { ...bad },
  );
}

/**
 * Runs a whole build.
 * @throws InputError when an input file is missing (found before the output directory is touched,
 *   so a previous build there stays intact); InputError on a bad record or BudgetError on an
 *   unsatisfiable budget (found after the previous build's manifest and shards were removed and
 *   before any shard is written, so the directory then holds no manifest).
 */
export async function buildMix(options: BuildOptions): Promise<BuildResult> {
  const { recipe, baseDir } = options.loaded;
  const spec = options.tokenizerSpec ?? (await buildLlama3Spec());
  const sources: ResolvedSource[] = [];
  const inputs: InputIdentity[] = [];
  const accounts: Record<string, SourceAccount> = {};
  for (const config of recipe.sources) {
    const files = await expandPaths(config.name, config.paths, baseDir);
    sources.push({ config, files });
    accounts[config.name] = newAccount(config.window, files.length, config.budgetTokens);
    for (const file of files) inputs.push({ source: config.name, path: file.relPath, sizeBytes: file.sizeBytes, sha256: await sha256File(file.absPath) });
  }
  const totalInputBytes = inputs.reduce((sum, i) => sum + i.sizeBytes, 0);
  await prepareOutDir(options.outDir);

  const progress: BuildProgress = { phase: 'tokenize', documents: 0, tokens: 0, rows: 0, totalRows: 0, inputBytes: 0, totalInputBytes };
  let finishedFileBytes = 0;
  const spill = await TokenSpill.create(path.join(options.outDir, 'tokens.spill.tmp'));
  const pool = new TokenizerPool(spec, options.workers);
  try {
    // Pass 1: read, tokenize, filter by length, spill.
    const docs: WriteDoc[] = [];
    const candidates = new Map<string, Candidate[]>(recipe.sources.map((s) => [s.name, []]));
    const range = new Map(recipe.sources.map((s) => [s.name, s.lengthTokens]));
    async function* documents(): AsyncGenerator<Doc> {
      const items = readSources(
        sources,
        (bytesInFile) => (progress.inputBytes = finishedFileBytes + bytesInFile),
        (file) => (finishedFileBytes += file.sizeBytes),
      );
      for await (const item of items) {
        if (item.kind === 'doc') yield item.doc;
        else if (recipe.onBadRecord === 'fail') throw badRecordError(item.bad);
        else {
          const counts = accounts[item.bad.source].badRecords;
          counts[item.bad.reason] = (counts[item.bad.reason] ?? 0) + 1;
        }
      }
    }
    for await (const doc of pool.tokenize(documents())) {
      const account = accounts[doc.source];
      const lengthTokens = doc.ids.length;
      addDoc(account.read, lengthTokens);
      progress.documents++;
      progress.tokens += lengthTokens;
      options.onProgress?.(progress);
      const { min, max } = range.get(doc.source)!;
      if (lengthTokens < min || lengthTokens > max) {
        addDoc(account.dropped.length_filter, lengthTokens);
        continue;
      }
      addDoc(account.available, lengthTokens);
      candidates.get(doc.source)!.push({ index: docs.length, id: doc.id, lengthTokens });
      docs.push({ source: doc.source, id: doc.id, spillOffsetTokens: await spill.append(doc.ids) });
    }

    // Plan: select per budget, then pack.
    const packDocs: PackDoc[] = [];
    const docLength = new Map<number, number>();
    for (const c of candidates.values()) for (const d of c) docLength.set(d.index, d.lengthTokens);
    for (const source of recipe.sources) {
      const selection = planSourceSelection(source.name, candidates.get(source.name)!, source.budgetTokens, recipe.seed);
      const account = accounts[source.name];
      account.placed = { documents: selection.selectedDocuments, tokens: selection.selectedTokens };
      account.dropped.over_budget = { documents: selection.overBudgetDocuments, tokens: selection.overBudgetTokens };
      for (const index of selection.selected) {
        const lengthTokens = docLength.get(index)!;
        if (lengthTokens > recipe.rowTokens) account.splitDocuments++;
        packDocs.push({ doc: index, lengthTokens, window: source.window });
      }
    }
    const plan = planPacking(packDocs, { rowTokens: recipe.rowTokens, originalWindowTokens: recipe.originalWindowTokens, seed: recipe.seed });

    // Pass 2: write shards from the spill.
    progress.phase = 'write';
    progress.totalRows = plan.rows.length;
    const shards = await writeRows(plan, docs, spill, {
      outDir: options.outDir,
      rowTokens: recipe.rowTokens,
      padId: spec.identity.padId,
      rowsPerShard: recipe.output.rowsPerShard,
      rowsPerBatch: recipe.output.rowsPerBatch,
      shardMetadata: {
        recipeHash: options.loaded.hash,
        rowTokens: recipe.rowTokens,
        originalWindowTokens: recipe.originalWindowTokens,
        tokenizer: spec.identity.name,
        ranksSha256: spec.identity.ranksSha256,
        tool: `${TOOL.name}@${TOOL.version}`,
      },
      onRow: (rows) => {
        progress.rows = rows;
        options.onProgress?.(progress);
      },
    });

    const manifest = assembleManifest(options.loaded, spec, inputs, accounts, plan, shards);
    await writeManifest(options.outDir, manifest);
    return { outDir: options.outDir, manifest };
  } finally {
    await pool.close();
    await spill.dispose();
  }
}

function assembleManifest(
  loaded: LoadedRecipe,
  spec: TokenizerSpec,
  inputs: InputIdentity[],
  accounts: Record<string, SourceAccount>,
  plan: ReturnType<typeof planPacking>,
  shards: Manifest['shards'],
): Manifest {
  const { recipe } = loaded;
  const all = Object.values(accounts);
  const sum = (f: (a: SourceAccount) => number) => all.reduce((s, a) => s + f(a), 0);
  const padTokens = plan.rows.reduce((s, r) => s + r.numPad, 0);
  const shortRows = plan.rows.filter((r) => r.window === 'short').length;
  return {
    manifestVersion: 1,
    tool: { ...TOOL },
    recipe: { name: recipe.name, hash: loaded.hash, resolved: manifestRecipe(recipe) },
    tokenizer: spec.identity,
    geometry: { rowTokens: recipe.rowTokens, originalWindowTokens: recipe.originalWindowTokens, attention: 'document', longDocPolicy: 'split' },
    inputs,
    sources: accounts,
    rows: {
      total: plan.rows.length,
      short: shortRows,
      long: plan.rows.length - shortRows,
      tokens: plan.rows.length * recipe.rowTokens - padTokens,
      padTokens,
      pieces: plan.pieces,
    },
    totals: {
      tokensRead: sum((a) => a.read.tokens),
      tokensPlaced: sum((a) => a.placed.tokens),
      tokensDropped: { length_filter: sum((a) => a.dropped.length_filter.tokens), over_budget: sum((a) => a.dropped.over_budget.tokens) },
      padTokens,
    },
    shards,
  };
}
