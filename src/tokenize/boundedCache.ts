/**
 * A bounded cache of encodings (key → ids) in two generations, shared by the piece cache of
 * ./bpe.ts and the word cache of ./hfJson.ts. Lookups go to the young map, then the old one (a hit
 * there moves the entry back to the young map); when the young map holds half of the bound, it
 * becomes the old one and the previous old one is dropped. Frequent keys stay, at most `entries`
 * keys are held, and the ids returned never depend on what is cached (a miss computes them).
 *
 * Keys are stored as copies that hold only their own characters ({@link ownCopy}): the pieces and
 * words are slices of documents, and a slice kept as is would keep its whole document alive.
 */

/**
 * `text` as a string that holds only its own characters. V8 keeps a slice of 13 or more UTF-16
 * units as a view into the string it was cut from, so a cached 20-character piece of a 1 MB
 * document would keep the document alive (measured, Node 20: 50 such keys held 68 MiB, copied
 * 0.2 MiB). Concatenation flattens into a fresh string, and a slice of that refers only to it.
 */
export function ownCopy(text: string): string {
  return text.length < 13 ? text : (' ' + text).slice(1);
}

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
      this.young.set(ownCopy(key), value);
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
