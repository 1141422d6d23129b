/**
 * Assembles the manifest from a finished build's parts. Pure: no clock, no paths of this machine.
 */
import { cellSums, type SourceAccount } from '../build/accounting.ts';
import { manifestRecipe, type LoadedRecipe } from '../config/load.ts';
import { TOOL } from '../core/version.ts';
import type { PackPlan } from '../pack/plan.ts';
import type { TokenizerIdentity } from '../tokenize/tokenizer.ts';
import type { ShardInfo } from '../write/arrowShard.ts';
import type { InputIdentity, Manifest } from './types.ts';

/** Builds `manifest.json`'s content. */
export function assembleManifest(
  loaded: LoadedRecipe,
  tokenizer: TokenizerIdentity,
  inputs: InputIdentity[],
  accounts: Record<string, SourceAccount>,
  plan: PackPlan,
  shards: ShardInfo[],
  bufferTokens: number,
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
      tokensRepeated: sum((a) => cellSums(a).repeated),
      tokensDropped: {
        length_filter: sum((a) => a.dropped.length_filter.tokens),
        over_budget: sum((a) => cellSums(a).overBudget),
        truncated: sum((a) => cellSums(a).truncated),
      },
      padTokens,
    },
    shards,
  };
}
