/**
 * Where every token went, from the manifest alone (docs/format.md §7): per source and per cell,
 * the tokens read split into placed (first uses), dropped by reason, plus the repeated tokens that
 * were placed again. Pure; the numbers are the manifest's, never recomputed from rows.
 *
 * Per source: `read = placedOnce + too_short + too_long + outside_buckets + over_budget + truncated +
 * last_batch`, where `placedOnce = placed − repeated`; so a stacked bar of those segments is exactly as long
 * as `read`, and `repeated` is drawn after it (tokens placed twice or more).
 */
import { cellSums, LENGTH_DROP_REASONS } from '../manifest/ledger.ts';
import type { SourceAccount } from '../manifest/ledger.ts';
import type { Manifest } from '../manifest/types.ts';

/**
 * The manifest's sources in recipe order (`recipe.resolved.sources`; the manifest's own keys are
 * sorted by name), then any source the recipe does not list, by name.
 */
export function orderedSources(manifest: Manifest): [string, SourceAccount][] {
  const resolved = (manifest.recipe.resolved as { sources?: { name?: unknown }[] } | null)?.sources ?? [];
  const names = resolved.map((s) => s?.name).filter((n): n is string => typeof n === 'string' && n in manifest.sources);
  const rest = Object.keys(manifest.sources).filter((n) => !names.includes(n));
  return [...names, ...rest].map((n) => [n, manifest.sources[n]]);
}

/** The segments of a token flow bar, in drawing order. */
export const FLOW_SEGMENTS = ['placed', 'repeated', 'too_short', 'too_long', 'outside_buckets', 'over_budget', 'truncated', 'last_batch'] as const;

/** One segment of a flow bar. */
export type FlowSegment = (typeof FLOW_SEGMENTS)[number];

/** Tokens of one segment of one bar (a source or a cell). */
export interface FlowPart {
  /** Bar label: the source, or `source · bucket`. */
  bar: string;
  segment: FlowSegment;
  tokens: number;
}

/** Readable names of the segments (legend). */
export const SEGMENT_LABELS: Record<FlowSegment, string> = {
  placed: 'placed (first use)',
  repeated: 'placed again (repeats)',
  too_short: 'dropped: too short',
  too_long: 'dropped: too long',
  outside_buckets: 'dropped: outside buckets',
  over_budget: 'dropped: over budget',
  truncated: 'dropped: truncated',
  last_batch: 'dropped: last batch',
};

/** Per-source flow parts (zero parts left out). */
export function sourceFlows(manifest: Manifest): FlowPart[] {
  return orderedSources(manifest).flatMap(([bar, a]) => {
    const s = cellSums(a);
    const parts: Record<FlowSegment, number> = {
      placed: a.placed.tokens - s.repeated,
      repeated: s.repeated,
      too_short: a.dropped.too_short.tokens,
      too_long: a.dropped.too_long.tokens,
      outside_buckets: a.dropped.outside_buckets.tokens,
      over_budget: s.overBudget,
      truncated: s.truncated,
      last_batch: s.lastBatch,
    };
    return FLOW_SEGMENTS.filter((segment) => parts[segment] > 0).map((segment) => ({ bar, segment, tokens: parts[segment] }));
  });
}

/**
 * Per-cell flow parts; a source's tokens in no cell (too short, too long, outside every bucket)
 * get a bar of their own (`source · out of range`).
 */
export function cellFlows(manifest: Manifest): FlowPart[] {
  return orderedSources(manifest).flatMap(([source, a]) => {
    const cells = a.cells.flatMap((c) => {
      const bar = `${source} · ${c.bucket}`;
      const parts: Record<FlowSegment, number> = {
        placed: c.placedTokens - c.repeatedTokens,
        repeated: c.repeatedTokens,
        too_short: 0,
        too_long: 0,
        outside_buckets: 0,
        over_budget: c.dropped.over_budget.tokens,
        truncated: c.dropped.truncated.tokens,
        last_batch: c.dropped.last_batch.tokens,
      };
      return FLOW_SEGMENTS.filter((segment) => parts[segment] > 0).map((segment) => ({ bar, segment, tokens: parts[segment] }));
    });
    const outOfRange = LENGTH_DROP_REASONS.filter((r) => a.dropped[r].tokens > 0).map((segment) => ({
      bar: `${source} · out of range`,
      segment,
      tokens: a.dropped[segment].tokens,
    }));
    return [...cells, ...outOfRange];
  });
}

/** Planned, achieved and placed tokens of one cell (planned: the numeric plan, or the cell's available tokens for "all"). */
export interface CellMix {
  cell: string;
  source: string;
  bucket: string;
  window: 'short' | 'long';
  /** Numeric plan, raised by `lastBatchPolicy: fill`; null for "all". */
  plannedTokens: number | null;
  availableTokens: number;
  achievedTokens: number;
  placedTokens: number;
  fillerTokens: number;
}

/** The mix per cell, in source and bucket order. */
export function cellMix(manifest: Manifest): CellMix[] {
  return orderedSources(manifest).flatMap(([source, a]) =>
    a.cells.map((c) => ({
      cell: `${source} · ${c.bucket}`,
      source,
      bucket: c.bucket,
      window: a.window,
      plannedTokens: c.plannedTokens === 'all' ? null : c.plannedTokens + c.raisedTokens,
      availableTokens: c.available.tokens,
      achievedTokens: c.achieved.tokens,
      placedTokens: c.placedTokens,
      fillerTokens: c.fillerTokens,
    })),
  );
}
