/**
 * Integer histogram bins for lengths in tokens, on a log scale with exact integer edges.
 *
 * Each octave `[2^j, 2^(j+1))` is cut into {@link SUB_BINS} bins of equal integer width (fewer
 * where the octave holds fewer integers), so edges are 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16,
 * 20, 24, 28, 32, 40, … — whole numbers, no floating-point rounding, the same on every machine.
 * A bin is the half-open interval `[start, end)` of lengths.
 */

/** Bins per octave (a factor of two in length). */
export const SUB_BINS = 4;

/** One half-open bin `[start, end)`, tokens. */
export interface Bin {
  start: number;
  end: number;
}

/**
 * The bin that holds `value`.
 * @param value - a length >= 1 (a whole number).
 * @returns the bin `[start, end)` with `start <= value < end`.
 * @throws RangeError when `value` is not a whole number >= 1.
 */
export function logBinOf(value: number): Bin {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`expected a whole length >= 1, got ${value}`);
  let octave = 1;
  while (octave * 2 <= value) octave *= 2;
  const width = Math.max(1, octave / SUB_BINS);
  const start = octave + Math.floor((value - octave) / width) * width;
  return { start, end: start + width };
}

/**
 * The bin of a count that may be 0 (padding, filler): 0 has its own bin `[0, 1)`, others use
 * {@link logBinOf}.
 */
export function countBinOf(value: number): Bin {
  return value === 0 ? { start: 0, end: 1 } : logBinOf(value);
}

/** A label for bin `[start, end)` of whole numbers: "7" for a one-value bin, else "8–9". */
export function binLabel(bin: Bin): string {
  return bin.end - bin.start === 1 ? String(bin.start) : `${bin.start}–${bin.end - 1}`;
}

/** Counts per bin, keyed by the bin's start. */
export class BinCounts {
  private readonly counts = new Map<number, { bin: Bin; count: number }>();

  /** Adds `weight` (default 1) to the bin of `value` under `binOf`. */
  add(value: number, binOf: (value: number) => Bin, weight = 1): void {
    const bin = binOf(value);
    const entry = this.counts.get(bin.start);
    if (entry) entry.count += weight;
    else this.counts.set(bin.start, { bin, count: weight });
  }

  /** Bins with their counts, by start, ascending. */
  sorted(): { start: number; end: number; count: number }[] {
    return [...this.counts.values()].sort((a, b) => a.bin.start - b.bin.start).map(({ bin, count }) => ({ start: bin.start, end: bin.end, count }));
  }
}
