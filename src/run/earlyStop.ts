/**
 * Early stop (issue 9, "read only what the mix needs"): each source's census units are taken in a
 * seeded order (`derivedKey(seed, source, "read-order", <the file's idPath>)`, so any prefix is a
 * fair sample of the dataset and the order never depends on where the files sit), and a source
 * whose budgets are all numbers needs only the **shortest prefix** of that order in which every
 * cell holds at least `oversample × planned` tokens. The build uses exactly that prefix: units read
 * past it (those already running when it was reached) are left out, so the output is the same
 * whatever the worker or task count. A source with a budget of "all", or StarCoder repositories
 * (a repository may lie in any file), reads every unit.
 */
import { sourceCells } from '../config/cells.ts';
import { derivedKey } from '../core/rng.ts';
import type { RunRecord } from './runRecord.ts';

/** Why a source's reading stopped where it did. */
export type StopReason = 'budgets_met' | 'all_read' | 'exhausted';

/** The part of a source's units a build uses. */
export interface SourcePrefix {
  source: string;
  /** Census units of the source, in read order. */
  order: number[];
  /** How many of `order` the build uses (the prefix); null while not known yet. */
  used: number | null;
  reason: StopReason | null;
  /** Tokens each cell must hold (oversample × planned), or null when every unit is read. */
  targets: number[] | null;
}

/** The census units of `source` in its seeded read order. */
export function readOrder(run: RunRecord, source: string): number[] {
  const units = run.census.flatMap((u, i) => (u.source === source ? [i] : []));
  if (units.some((i) => run.census[i].partition)) return units; // partitions: every one is read
  const keyOf = (i: number) => derivedKey(run.recipe.seed, source, 'read-order', run.inputs[run.census[i].inputs[0]].idPath);
  const keys = new Map(units.map((i) => [i, keyOf(i)]));
  return units.sort((a, b) => {
    const ka = keys.get(a)!;
    const kb = keys.get(b)!;
    return ka < kb ? -1 : ka > kb ? 1 : a - b;
  });
}

/** Each cell's target (oversample × planned tokens), or null when the source reads every unit. */
export function targetsOf(run: RunRecord, source: string): number[] | null {
  const config = run.recipe.sources.find((s) => s.name === source)!;
  const cells = sourceCells(config, run.recipe.scale);
  if (cells.some((c) => c.plannedTokens === 'all') || (config.dataset === 'starcoder' && config.repositories)) return null;
  return cells.map((c) => Math.ceil((c.plannedTokens as number) * config.oversample));
}

/**
 * The prefix of a source's read order the build uses, from what is known of its units: `available`
 * gives a done unit's in-cell tokens per cell, or null for a unit not done. `used` is set once the
 * prefix is known: the first p units are all done and meet every target (`budgets_met`), or every
 * unit is done (`all_read` for a source that reads all, else `exhausted`). `order` is the source's
 * read order (computed when not given).
 */
export function sourcePrefix(
  run: RunRecord,
  source: string,
  available: (unit: number) => readonly number[] | null,
  order: number[] = readOrder(run, source),
): SourcePrefix {
  const targets = targetsOf(run, source);
  const sums = targets ? targets.map(() => 0) : [];
  for (let p = 0; p < order.length; p++) {
    const cells = available(order[p]);
    if (cells === null) return { source, order, used: null, reason: null, targets };
    if (targets) {
      cells.forEach((t, c) => (sums[c] += t));
      if (sums.every((s, c) => s >= targets[c])) return { source, order, used: p + 1, reason: 'budgets_met', targets };
    }
  }
  return { source, order, used: order.length, reason: targets ? 'exhausted' : 'all_read', targets };
}

/**
 * The census units of a run as the local executor starts them: the sources take turns (recipe
 * order), each in its read order; a source stops getting units once its prefix is known (its
 * budgets are met by a done prefix, or it has none left). Units already done count from the start.
 */
export class CensusQueue {
  private readonly available = new Map<number, readonly number[]>();
  private readonly started = new Set<number>();
  private readonly orders: { source: string; order: number[] }[];
  private turn = 0;

  /**
   * @param done - a done census unit's in-cell tokens per cell (from its completion record), or
   *   null when it is not done.
   */
  constructor(
    private readonly run: RunRecord,
    private readonly done: (unit: number) => Promise<readonly number[] | null>,
  ) {
    this.orders = run.recipe.sources.map((s) => ({ source: s.name, order: readOrder(run, s.name) }));
  }

  /** Loads what is done already (a resumed build); returns the units still to read, in the order they would start. */
  async load(): Promise<number> {
    for (let i = 0; i < this.run.census.length; i++) {
      const cells = await this.done(i);
      if (cells) {
        this.available.set(i, cells);
        this.started.add(i);
      }
    }
    return this.run.census.length - this.started.size;
  }

  private known(source: string, order: number[]): boolean {
    return sourcePrefix(this.run, source, (u) => this.available.get(u) ?? null, order).used !== null;
  }

  /** The next unit to start, or undefined when no source needs one more. */
  next(): number | undefined {
    for (let k = 0; k < this.orders.length; k++) {
      const { source, order } = this.orders[(this.turn + k) % this.orders.length];
      if (this.known(source, order)) continue;
      const unit = order.find((u) => !this.started.has(u));
      if (unit === undefined) continue;
      this.started.add(unit);
      this.turn = (this.turn + k + 1) % this.orders.length;
      return unit;
    }
    return undefined;
  }

  /**
   * What the census is expected to read in all, for a progress display (never for the build's
   * bytes): per source, every unit when it reads all; the units started once its prefix is known;
   * otherwise the first units of its read order that the yield of its done units (in-cell tokens per
   * unit, the scarcest cell) says meet its targets, at least those started, at most all (all when
   * no done unit holds a token of some cell yet). `bytesOf` gives a unit's input bytes.
   */
  projection(bytesOf: (unit: number) => number): { units: number; inputBytes: number } {
    let units = 0;
    let inputBytes = 0;
    for (const { source, order } of this.orders) {
      const prefix = sourcePrefix(this.run, source, (u) => this.available.get(u) ?? null, order);
      const started = order.filter((u) => this.started.has(u));
      let take: number[] = order;
      if (prefix.used !== null) take = started;
      else if (prefix.targets) {
        const done = order.filter((u) => this.available.has(u));
        const sums = prefix.targets.map((_, c) => done.reduce((s, u) => s + this.available.get(u)![c], 0));
        if (done.length && sums.every((t) => t > 0)) {
          const ratio = Math.max(...prefix.targets.map((t, c) => t / sums[c]));
          const needed = Math.min(order.length, Math.max(started.length, Math.ceil(done.length * ratio)));
          const head = new Set(order.slice(0, needed));
          take = [...head, ...started.filter((u) => !head.has(u))];
        }
      }
      units += take.length;
      inputBytes += take.reduce((s, u) => s + bytesOf(u), 0);
    }
    return { units, inputBytes };
  }

  /** Whether `unit` was started (or was done before this build began). */
  isStarted(unit: number): boolean {
    return this.started.has(unit);
  }

  /** Records that `unit` finished. */
  async doneUnit(unit: number): Promise<void> {
    const cells = await this.done(unit);
    if (cells) this.available.set(unit, cells);
  }
}
