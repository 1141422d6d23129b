/**
 * Assembles the manifest from a finished build's parts. Pure: no clock, no paths of this machine.
 */
import { cellSums, type SourceAccount } from '../manifest/ledger.ts';
import { manifestRecipe, type LoadedRecipe } from '../config/load.ts';
import { TOOL } from '../core/version.ts';
import type { PackColumns } from '../pack/rows.ts';
import type { TokenizerIdentity } from '../tokenize/tokenizer.ts';
import type { ShardInfo } from '../shard/writer.ts';
import type { Schedule, ShardPlan } from './schedule.ts';
import type { InputIdentity, Manifest } from '../manifest/types.ts';

/** Builds `manifest.json`'s content. */
export function assembleManifest(
  loaded: LoadedRecipe,
  tokenizer: TokenizerIdentity,
  inputs: InputIdentity[],
  accounts: Record<string, SourceAccount>,
  plan: Pick<PackColumns, 'rows' | 'pieces'>,
  schedule: Schedule,
  shardPlans: readonly ShardPlan[],
  shards: ShardInfo[],
  bufferTokens: number,
): Manifest {
  const { recipe } = loaded;
  const all = Object.values(accounts);
  const sum = (f: (a: SourceAccount) => number) => all.reduce((s, a) => s + f(a), 0);
  const { rows, pieces } = plan;
  const padOf = (list: readonly number[]) => list.reduce((s, r) => s + rows.numPad[r], 0);
  const padTokens = padOf(schedule.order);
  let shortRows = 0;
  let keptPieces = 0;
  let truncatedPieces = 0;
  for (const r of schedule.order) {
    if (!rows.long[r]) shortRows++;
    keptPieces += rows.first[r + 1] - rows.first[r];
    for (let k = rows.first[r]; k < rows.first[r + 1]; k++) truncatedPieces += pieces.truncated[rows.refs[k]];
  }
  const kept = schedule.order;
  const dropped = schedule.dropped;
  const positions: [number, number][] = new Array(schedule.order.length);
  shardPlans.forEach((shard, index) => shard.positions.forEach((p, row) => (positions[p] = [index, row])));
  return {
    manifestVersion: 1,
    tool: { ...TOOL },
    recipe: { name: recipe.name, hash: loaded.hash, resolved: manifestRecipe(recipe) },
    tokenizer,
    geometry: {
      rowTokens: recipe.rowTokens,
      originalWindowTokens: recipe.originalWindowTokens,
      longRowAttention: recipe.packing.longRowAttention,
      shortRowAttention: 'document',
      longDocPolicy: recipe.packing.longDocPolicy,
      shortDocPolicy: recipe.packing.shortDocPolicy,
      bufferTokens,
      longRowFiller: recipe.packing.longRowFiller ?? null,
    },
    inputs,
    sources: accounts,
    rows: {
      total: kept.length,
      short: shortRows,
      long: kept.length - shortRows,
      tokens: kept.length * recipe.rowTokens - padTokens,
      padTokens,
      pieces: keptPieces,
      truncatedPieces,
      dropped: {
        rows: dropped.length,
        tokens: dropped.length * recipe.rowTokens - padOf(dropped),
        padTokens: padOf(dropped),
        policy: recipe.output.lastBatchPolicy,
      },
    },
    schedule: {
      worldSize: recipe.output.worldSize,
      globalBatchRows: recipe.output.globalBatchRows,
      steps: schedule.steps,
      longRowsPerStep: schedule.longPerStep,
      positions,
    },
    totals: {
      tokensRead: sum((a) => a.read.tokens),
      tokensPlaced: sum((a) => a.placed.tokens),
      tokensRepeated: sum((a) => cellSums(a).repeated),
      tokensDropped: {
        too_short: sum((a) => a.dropped.too_short.tokens),
        too_long: sum((a) => a.dropped.too_long.tokens),
        outside_buckets: sum((a) => a.dropped.outside_buckets.tokens),
        over_budget: sum((a) => cellSums(a).overBudget),
        truncated: sum((a) => cellSums(a).truncated),
        last_batch: sum((a) => cellSums(a).lastBatch),
      },
      padTokens,
    },
    shards,
  };
}
