/**
 * The global order of rows and their placement in shards, for data-parallel loaders. Pure.
 *
 * Order (`planSchedule`): rows are split by window; each class is shuffled with a seeded
 * SplitMix64 (`derivedKey(seed, "schedule", class)`). With `steps = floor(rows / globalBatchRows)`,
 * step `s` takes `floor((s+1)·L/steps) − floor(s·L/steps)` long rows (L = long rows kept) and
 * fills the rest of its `globalBatchRows` with short rows, so every global batch carries the mix's
 * ratio as closely as whole rows allow; rows inside a step are shuffled again. Rows that do not
 * fill the last global batch are dropped (`lastBatchPolicy: drop`) — the kept rows of each class
 * are the first of its shuffled order, in the mix's proportion — and counted in the manifest.
 *
 * Placement (`planShards`): global position `p` is in step `floor(p / G)` and goes to rank
 * `floor((p mod G) / (G / W))`. Each rank's rows, in position order, are cut into `m` shards of
 * equal size (±1 row), `m = ceil(rowsPerRank / floor(targetShardBytes / rowBytes))`, with
 * `rowBytes = 8·rowTokens + 1024` (an estimate: provenance of rows with many pieces can make a
 * file somewhat larger than the target); shard `r·m + k` is
 * rank r's k-th. So the shard count is a multiple of the world size, every rank holds the same
 * number of rows, and a loader with another world size re-splits the same global order from the
 * manifest's schedule without rewriting shards.
 */
import { derivedKey, shuffled, SplitMix64 } from '../core/rng.ts';
import { ConfigError } from '../core/errors.ts';
import { MAX_SHARD_BYTES, rowBytes } from '../shard/limits.ts';

/** The global order: `order[p]` is the plan row at global position p; `dropped` are plan rows left out. */
export interface Schedule {
  steps: number;
  order: number[];
  dropped: number[];
  /** Long rows in each step. */
  longPerStep: number[];
}

/**
 * Orders rows into global batches (see the file header).
 * @param windows - window of each plan row.
 */
export function planSchedule(windows: readonly ('short' | 'long')[], globalBatchRows: number, seed: number): Schedule {
  const ids = (w: 'short' | 'long') => windows.flatMap((x, i) => (x === w ? [i] : []));
  const long = shuffled(ids('long'), new SplitMix64(derivedKey(seed, 'schedule', 'long')));
  const short = shuffled(ids('short'), new SplitMix64(derivedKey(seed, 'schedule', 'short')));
  const steps = Math.floor(windows.length / globalBatchRows);
  const kept = steps * globalBatchRows;
  let keepLong = windows.length ? Math.round((long.length * kept) / windows.length) : 0;
  keepLong = Math.min(long.length, Math.max(kept - short.length, keepLong));
  const keepShort = kept - keepLong;
  const longPerStep = Array.from({ length: steps }, (_, s) => Math.floor(((s + 1) * keepLong) / steps) - Math.floor((s * keepLong) / steps));
  const order: number[] = [];
  let nextLong = 0;
  let nextShort = 0;
  for (let s = 0; s < steps; s++) {
    const batch = [...long.slice(nextLong, nextLong + longPerStep[s]), ...short.slice(nextShort, nextShort + globalBatchRows - longPerStep[s])];
    nextLong += longPerStep[s];
    nextShort += globalBatchRows - longPerStep[s];
    order.push(...shuffled(batch, new SplitMix64(derivedKey(seed, 'schedule', 'step', String(s)))));
  }
  return { steps, order, dropped: [...long.slice(keepLong), ...short.slice(keepShort)].sort((a, b) => a - b), longPerStep };
}

/** One shard: its rank and the global positions of its rows, in order. */
export interface ShardPlan {
  rank: number;
  positions: number[];
}

/**
 * Places global positions into shards (see the file header).
 * @throws ConfigError when a single row is larger than the 2 GiB shard limit.
 */
export function planShards(totalRows: number, globalBatchRows: number, worldSize: number, rowTokens: number, targetShardBytes: number): ShardPlan[] {
  const perRankPerStep = globalBatchRows / worldSize;
  const rowsPerRank = totalRows / worldSize;
  const bytes = rowBytes(rowTokens);
  if (bytes > MAX_SHARD_BYTES) throw new ConfigError(`one row of ${rowTokens} tokens takes ${bytes} bytes, over the ${MAX_SHARD_BYTES}-byte shard limit`);
  const target = Math.min(targetShardBytes, MAX_SHARD_BYTES);
  const perShard = Math.max(1, Math.floor(target / bytes));
  const shardsPerRank = Math.max(1, Math.ceil(rowsPerRank / perShard));
  const shards: ShardPlan[] = [];
  for (let rank = 0; rank < worldSize; rank++) {
    const positions: number[] = [];
    for (let p = 0; p < totalRows; p++) if (Math.floor((p % globalBatchRows) / perRankPerStep) === rank) positions.push(p);
    for (let k = 0; k < shardsPerRank; k++) {
      const from = Math.floor((k * positions.length) / shardsPerRank);
      const to = Math.floor(((k + 1) * positions.length) / shardsPerRank);
      shards.push({ rank, positions: positions.slice(from, to) });
    }
  }
  return shards;
}
