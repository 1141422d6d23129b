/**
 * A bounded cache of encodings (key → ids) in two generations, shared by the piece cache of
 * ./bpe.ts and the word cache of ./hfJson.ts. Lookups go to the young map, then the old one (a hit
 * there moves the entry back to the young map); when the young map holds half of the bound, it
 * becomes the old one and the previous old one is dropped. Frequent keys stay, at most `entries`
 * keys are held, and the ids returned never depend on what is cached (a miss computes them).
 */

/** Key → ids, two generations, at most `entries` keys in all (`entries` = 0: no cache). */
export class BoundedCache<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  private readonly half: number;

  /** @param entries - the most keys held, both generations together; 0 disables the cache. */
  constructor(readonly entries: number) {
    this.half = Math.max(1, Math.floor(entries / 2));
  }

  /** The cached value of `key`, or `compute(key)` (then cached). */
  get(key: string, compute: (key: string) => V): V {
    let value = this.young.get(key);
    if (value !== undefined) return value;
    value = this.old.get(key) ?? compute(key);
    if (this.entries > 0) {
      if (this.young.size >= this.half) [this.old, this.young] = [this.young, new Map()];
      this.young.set(key, value);
    }
    return value;
  }

  /** Number of keys held. */
  get size(): number {
    return this.young.size + this.old.size;
  }

  /** Drops every entry. */
  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}
