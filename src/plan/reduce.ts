/**
 * The plan stage (the reduce of the build): a pure function of the census units' outputs taken
 * in unit order (never in the order they finished), the recipe and the tokenizer's identity. It
 * resolves repeated document ids, selects documents per cell, fills, packs, orders rows into
 * global batches, places them in shards, and derives the whole token ledger, asserting the
 * accounting identity of every source before anything is written.
 *
 * Document ids: within a source, the first document (in unit order, then document order) with a
 * given id keeps it; a later one gets `@<location>` appended (`<idPath>:<line>` or
 * `<idPath>#<row>`), so ids are unique and never depend on how inputs were split into tasks
 * (src/plan/docs.ts does it from the units' id hashes).
 *
 * Memory: the documents stay in the units' columnar tables and the plan in typed arrays
 * (src/plan/docs.ts, src/pack/rows.ts); a shard's rows become objects only when that shard's
 * rows file is made ({@link BuildPlan.shard}), one shard at a time.
 *
 * Shard files are named `shard-<index>-<build>.arrow`, `<build>` the first 8 hex digits of the
 * plan's SHA-256: a new build's shards never take the names of the previous build's (which stays
 * readable until the new manifest is in place), and an identical rebuild gives identical names.
 */
import type { LoadedRecipe } from '../config/load.ts';
import { recipeCells, type CellSpec } from '../config/cells.ts';
import { BudgetError, InputError, InvariantError } from '../core/errors.ts';
import { stableHashStreaming } from '../core/stableJson.ts';
import type { CensusCounts } from '../census/store.ts';
import type { DocColumns } from '../census/docTable.ts';
import { cellSums, lengthDropped, LENGTH_DROP_REASONS, newAccount, type SourceAccount, type SourceReading } from '../manifest/ledger.ts';
import type { InputIdentity, Manifest } from '../manifest/types.ts';
import type { TokenizerIdentity } from '../tokenize/tokenizer.ts';
import { assembleManifest } from './assemble.ts';
import { planSchedule, planShards } from './schedule.ts';
import { shardCanonicalChunks, shardJson, shardObject, type ShardSource } from './shardText.ts';
import { spaceCopiesInColumns } from './copySpacing.ts';
import { pieceBytes, rowBytes, safeRowsPerBatch } from '../shard/limits.ts';
import { CensusDocs } from './docs.ts';
import { applyLastBatch, assertPlanSize, bufferTokensOf, planBuild, type Census, type PlanProgress } from './select.ts';

/** What the plan reads of one census unit. */
export interface UnitCensus {
  /** The unit's index in the run's census units (its token file is named by it). */
  unit: number;
  source: string;
  counts: CensusCounts;
  /** Its document table (src/census/docTable.ts), keys made with the recipe's seed. */
  docs: DocColumns;
}

/** One piece of a planned row: tokens `[offsetTokens, offsetTokens + lengthTokens)` of a unit's token file. */
export interface PiecePlan {
  unit: number;
  offsetTokens: number;
  lengthTokens: number;
  source: string;
  docId: string;
  /** Offset of the piece within its document, tokens (0: it starts with BOS). */
  startToken: number;
  repeat: number;
  part: number;
  parts: number;
}

/** One planned row, at global position `rowId`. */
export interface RowPlan {
  rowId: number;
  window: 'short' | 'long';
  numPad: number;
  pieces: PiecePlan[];
}

/** One planned shard: the unit of the write stage. */
export interface ShardPlanned {
  index: number;
  file: string;
  rank: number;
  rows: RowPlan[];
}

/** A planned shard without its rows. */
export type ShardSummary = Omit<ShardPlanned, 'rows'>;

/** The plan of a build. */
export interface BuildPlan {
  /** The manifest without shard infos (`shards` is empty until the commit fills it in). */
  manifest: Manifest;
  /** The shards, in index order. */
  shards: ShardSummary[];
  /** Shard `index` with its rows, made on each call (one shard's rows in memory at a time). */
  shard(index: number): ShardPlanned;
  /** `JSON.stringify(shard(index))` (its rows file), written without the objects. */
  shardJson(index: number): string;
  /**
   * First 8 hex digits of the SHA-256 of the canonical JSON of `{ manifest, shards }` (every
   * shard with its rows, `file` empty), in shard file names.
   */
  buildId: string;
}

/** Shard file name of shard `index` of build `buildId`. */
export function shardFileName(index: number, buildId: string): string {
  return `shard-${String(index).padStart(5, '0')}-${buildId}.arrow`;
}

/** Sums the units' counts into one account per source. */
function accountsOf(
  loaded: LoadedRecipe,
  cells: readonly CellSpec[],
  units: readonly UnitCensus[],
  filesPerSource: ReadonlyMap<string, number>,
): Record<string, SourceAccount> {
  const accounts: Record<string, SourceAccount> = {};
  for (const s of loaded.recipe.sources) {
    accounts[s.name] = newAccount(
      s.window,
      filesPerSource.get(s.name) ?? 0,
      cells.filter((c) => c.source === s.name),
    );
  }
  for (const { source, counts } of units) {
    const a = accounts[source];
    a.read.documents += counts.read.documents;
    a.read.tokens += counts.read.tokens;
    for (const r of LENGTH_DROP_REASONS) {
      a.dropped[r].documents += counts.lengthDropped[r].documents;
      a.dropped[r].tokens += counts.lengthDropped[r].tokens;
    }
    counts.cells.forEach((c, i) => {
      a.cells[i].available.documents += c.documents;
      a.cells[i].available.tokens += c.tokens;
    });
    for (const [reason, n] of Object.entries(counts.badRecords))
      a.badRecords[reason as keyof typeof a.badRecords] = (a.badRecords[reason as keyof typeof a.badRecords] ?? 0) + (n ?? 0);
    a.qualityFiltered.documents += counts.qualityFiltered.documents;
    a.qualityFiltered.chars += counts.qualityFiltered.chars;
    for (const [reason, n] of Object.entries(counts.skipped)) a.skipped[reason as keyof typeof a.skipped] += n;
    a.corruptFiles.push(...counts.corruptFiles);
    a.prefiltered.documents += counts.prefiltered.documents;
    a.prefiltered.bytes += counts.prefiltered.bytes;
  }
  return accounts;
}

/**
 * Reads the units into the planner's census: final ids, the documents of each cell, token locations.
 * @throws InputError naming a source from which no document was read at all.
 */
export function censusOf(loaded: LoadedRecipe, units: readonly UnitCensus[], filesPerSource: ReadonlyMap<string, number>): Census {
  const cells = recipeCells(loaded.recipe);
  const firstCell = new Map<string, number>();
  cells.forEach((c, i) => firstCell.set(c.source, firstCell.get(c.source) ?? i));
  const accounts = accountsOf(loaded, cells, units, filesPerSource);
  for (const s of loaded.recipe.sources) {
    const a = accounts[s.name];
    if (a.read.documents === 0 && a.qualityFiltered.documents === 0) {
      const bad = Object.entries(a.badRecords)
        .map(([reason, n]) => `${n} ${reason}`)
        .join(', ');
      const { empty_file: emptyFiles, blank_line: blankLines } = a.skipped;
      const empty = emptyFiles ? `; ${emptyFiles} of them held no record${blankLines ? ` (${blankLines} blank lines)` : ''}` : '';
      throw new InputError(
        `Source "${s.name}": no document was read from its ${a.files} file(s)${empty}${bad ? ` (bad records skipped: ${bad})` : ''}; check its format or dataset, textField and paths`,
        { source: s.name },
      );
    }
  }
  const docs = new CensusDocs(units, loaded.recipe.seed);
  const sizes = new Int32Array(cells.length);
  docs.forEach((_doc, source, cell) => sizes[firstCell.get(source)! + cell]++);
  const members = Array.from(sizes, (n) => new Int32Array(n));
  const lengths = Array.from(sizes, (n) => new Int32Array(n));
  sizes.fill(0);
  docs.forEach((doc, source, cell, lengthTokens) => {
    const i = firstCell.get(source)! + cell;
    members[i][sizes[i]] = doc;
    lengths[i][sizes[i]++] = lengthTokens;
  });
  return { cells, docs, members, lengths, accounts };
}

/**
 * Asserts every source's accounting identity (see src/manifest/ledger.ts).
 * @throws InvariantError naming the source whose tokens do not add up (a bug of ours).
 */
export function assertLedger(accounts: Record<string, SourceAccount>): void {
  for (const [name, a] of Object.entries(accounts)) {
    const s = cellSums(a);
    const accounted = a.placed.tokens - s.repeated + s.truncated + s.lastBatch + s.overBudget + lengthDropped(a).tokens;
    if (accounted !== a.read.tokens)
      throw new InvariantError(`ledger of source "${name}": ${a.read.tokens} tokens read, but placed, dropped and repeated account for ${accounted}`, {
        source: name,
      });
    const inCells = a.cells.reduce((sum, c) => sum + c.available.tokens, 0) + lengthDropped(a).tokens;
    if (inCells !== a.read.tokens)
      throw new InvariantError(`ledger of source "${name}": ${a.read.tokens} tokens read, but cells and length drops hold ${inCells}`, { source: name });
  }
}

/**
 * Plans a build from its census units (in unit order).
 * @param inputs - identities of the inputs (from the bytes the units read), in listing order.
 * @param filesPerSource - input files per source (for the ledger).
 * @param maxRows - a bound on the rows (e.g. from the free disk space), checked before selecting.
 * @param onProgress - documents selected and rows packed so far ({@link planBuild}).
 * @throws InputError when a source yielded no document; BudgetError when the budgets imply more rows
 *   than `maxRows` or row ids allow, a cell's plan cannot be met, or fewer rows than one global batch are packed; InvariantError when the ledger does not add up.
 */
export function planFromCensus(
  loaded: LoadedRecipe,
  tokenizer: TokenizerIdentity,
  units: readonly UnitCensus[],
  inputs: InputIdentity[],
  filesPerSource: ReadonlyMap<string, number>,
  maxRows?: { rows: number; why: string },
  reading?: ReadonlyMap<string, SourceReading>,
  onProgress?: (p: PlanProgress) => void,
): BuildPlan {
  const { recipe } = loaded;
  const { output } = recipe;
  const census = censusOf(loaded, units, filesPerSource);
  for (const [source, r] of reading ?? []) census.accounts[source].reading = { ...r };
  assertPlanSize(loaded, census, maxRows?.rows, maxRows?.why);
  const plan = planBuild(loaded, census, onProgress);
  // The cells' document lists serve selection only: let them go (8 bytes per in-cell document).
  census.members = [];
  census.lengths = [];
  const { rows, pieces } = plan;
  const schedule = planSchedule(
    Array.from(rows.long, (long) => (long ? 'long' : 'short')),
    output.globalBatchRows,
    recipe.seed,
  );
  const { docs } = census;
  spaceCopiesInColumns(schedule, plan, recipe.packing.repeatSpacingRows ?? 0, (d) => `source "${docs.source(d)}" document "${docs.id(d)}"`);
  applyLastBatch(census, plan, schedule);
  if (schedule.order.length === 0) {
    throw new BudgetError(
      `No row to write: ${rows.count} rows were packed, fewer than one global batch of ${output.globalBatchRows} rows; lower output.globalBatchRows (and worldSize) or raise the budgets`,
      { rows: rows.count, globalBatchRows: output.globalBatchRows },
    );
  }
  assertLedger(census.accounts);
  // pieceBytes(source, id) = pieceBytes(source, "") + the id's UTF-8 bytes, without decoding the id.
  const sourceBytes = new Map(recipe.sources.map((s) => [s.name, pieceBytes(s.name, '')]));
  const rowSizeBytes = schedule.order.map((r) => {
    let provenance = 0;
    for (let k = rows.first[r]; k < rows.first[r + 1]; k++) {
      const doc = pieces.doc[rows.refs[k]];
      provenance += sourceBytes.get(docs.source(doc))! + docs.idBytes(doc);
    }
    return rowBytes(recipe.rowTokens, provenance);
  });
  const rowsPerBatch = safeRowsPerBatch(output.rowsPerBatch, recipe.rowTokens);
  const shardPlans = planShards(rowSizeBytes, output.globalBatchRows, output.worldSize, rowsPerBatch, output.targetShardBytes);
  const manifest = assembleManifest(loaded, tokenizer, inputs, census.accounts, plan, schedule, shardPlans, [], bufferTokensOf(loaded));
  const source = (index: number, file: string): ShardSource => ({ docs, plan, schedule, shardPlan: shardPlans[index], index, file });
  const buildId = stableHashStreaming(
    { manifest },
    'shards',
    (function* () {
      for (let index = 0; index < shardPlans.length; index++) yield shardCanonicalChunks(source(index, ''));
    })(),
    true,
  ).slice(0, 8);
  const shards = shardPlans.map((shardPlan, index) => ({ index, file: shardFileName(index, buildId), rank: shardPlan.rank }));
  return {
    manifest,
    shards,
    shard: (index) => shardObject(source(index, shards[index].file)),
    shardJson: (index) => shardJson(source(index, shards[index].file)),
    buildId,
  };
}
