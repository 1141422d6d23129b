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
 * equal size (±1 row); shard `r·m + k` is rank r's k-th. `m` is the smallest number (the same for
 * every rank) for which every shard's estimated bytes (src/shard/limits.ts `shardBytes`: the
 * token columns, each row's provenance, batch and schema overhead) are at most
 * `min(targetShardBytes, MAX_SHARD_BYTES)`; a row whose estimate alone passes the target gets a
 * shard of its own. So the shard count is a multiple of the world size, every rank holds the same
 * number of rows, no shard passes the 2 GiB limit, and a loader with another world size re-splits
 * the same global order from the manifest's schedule without rewriting shards.
 */
import { derivedKey, shuffled, SplitMix64 } from '../core/rng.ts';
import { ConfigError } from '../core/errors.ts';
import { MAX_SHARD_BYTES, shardBytes } from '../shard/limits.ts';

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

/** `positions` cut into `m` contiguous parts of equal size (±1). */
function cut<T>(positions: readonly T[], m: number): T[][] {
  return Array.from({ length: m }, (_, k) => positions.slice(Math.floor((k * positions.length) / m), Math.floor(((k + 1) * positions.length) / m)));
}

/**
 * Places global positions into shards (see the file header).
 * @param rowSizeBytes - estimated bytes of the row at each global position (src/shard/limits.ts
 *   `rowBytes`, provenance included); its length is the number of rows.
 * @param rowsPerBatch - rows per record batch the writer uses (for the batch overhead).
 * @throws ConfigError when a single row's shard would pass `MAX_SHARD_BYTES`.
 */
export function planShards(
  rowSizeBytes: readonly number[],
  globalBatchRows: number,
  worldSize: number,
  rowsPerBatch: number,
  targetShardBytes: number,
): ShardPlan[] {
  const totalRows = rowSizeBytes.length;
  const perRankPerStep = globalBatchRows / worldSize;
  const byRank: number[][] = Array.from({ length: worldSize }, () => []);
  for (let p = 0; p < totalRows; p++) byRank[Math.floor((p % globalBatchRows) / perRankPerStep)].push(p);
  const cap = Math.min(targetShardBytes, MAX_SHARD_BYTES);
  const bytesOf = (positions: readonly number[]) =>
    shardBytes(
      positions.map((p) => rowSizeBytes[p]),
      rowsPerBatch,
    );
  for (let p = 0; p < totalRows; p++) {
    const alone = bytesOf([p]);
    if (alone > MAX_SHARD_BYTES)
      throw new ConfigError(
        `the row at position ${p} takes about ${alone} bytes in a shard of its own, over the ${MAX_SHARD_BYTES}-byte shard limit; lower rowTokens`,
        {
          position: p,
          bytes: alone,
        },
      );
  }
  const rowsPerRank = byRank[0].length;
  const fits = (m: number) => byRank.every((positions) => cut(positions, m).every((part) => part.length <= 1 || bytesOf(part) <= cap));
  let m = Math.max(1, ...byRank.map((positions) => Math.ceil(bytesOf(positions) / cap)));
  while (m < rowsPerRank && !fits(m)) m++;
  m = Math.max(1, Math.min(m, rowsPerRank));
  return byRank.flatMap((positions, rank) => cut(positions, m).map((part) => ({ rank, positions: part })));
}
