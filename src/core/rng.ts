/**
 * Seeded, label-derived randomness. There is no global RNG and no `Math.random`.
 *
 * Rule (after mosaicml/streaming and OLMo-core): a child seed or sort key is derived from the
 * recipe seed plus stable labels (source name, document id), never from a position in a list, so
 * reordering sources in a recipe does not reshuffle everything.
 */
import * as crypto from 'node:crypto';

/** One-shot SHA-256 (Node >= 20.12) as hex; the incremental API on older Node 20 releases. */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text).digest('hex');

/**
 * A 64-bit key from the seed and labels: the first 8 bytes of SHA-256 over the UTF-8 of
 * `seed \0 label0 \0 label1 …`, as an unsigned bigint (big-endian). About 0.6 µs per key with
 * the one-shot hash, ten times less than an incremental `createHash` per key.
 */
export function derivedKey(seed: number, ...labels: string[]): bigint {
  let text = String(seed);
  for (const label of labels) text += '\0' + label;
  return BigInt('0x' + sha256Hex(text).slice(0, 16));
}

/**
 * SplitMix64 generator (Steele, Lea, Flood 2014), seeded by a 64-bit key.
 * `nextBelow(n)` returns an integer in `[0, n)` by rejection, without modulo bias.
 */
export class SplitMix64 {
  private state: bigint;

  /** @param seed - any bigint; taken modulo 2^64. */
  constructor(seed: bigint) {
    this.state = BigInt.asUintN(64, seed);
  }

  /** Next 64-bit output. */
  next(): bigint {
    this.state = BigInt.asUintN(64, this.state + 0x9e3779b97f4a7c15n);
    let z = this.state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  }

  /**
   * Uniform integer in `[0, n)`.
   * @throws RangeError when `n` is not a positive safe integer.
   */
  nextBelow(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`Expected n to be a positive safe integer, got ${n}`);
    const bound = BigInt(n);
    const limit = (1n << 64n) - ((1n << 64n) % bound);
    for (;;) {
      const x = this.next();
      if (x < limit) return Number(x % bound);
    }
  }
}

/** Fisher–Yates shuffle of a copy of `items`, driven by `rng`. */
export function shuffled<T>(items: readonly T[], rng: SplitMix64): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.nextBelow(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
