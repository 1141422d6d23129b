import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { BoundedCache, ownCopy } from '../../src/tokenize/boundedCache.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('BoundedCache', () => {
  it('holds at most `entries` keys, keeps keys in use, and computes what it does not hold', () => {
    const cache = new BoundedCache<number>(4);
    let computed = 0;
    const value = (key: string) => (computed++, key.length);
    for (const key of ['a', 'bb', 'a', 'ccc', 'a', 'dddd', 'a', 'eeeee', 'a', 'ffffff']) expect(cache.get(key, value)).toBe(key.length);
    expect(cache.size).toBeLessThanOrEqual(4);
    expect(computed).toBe(6); // 'a' was computed once: every use moved it to the young generation
    expect(new BoundedCache<number>(0).get('x', value)).toBe(1);
    expect(new BoundedCache<number>(0).size).toBe(0);
  });

  it('does not keep alive the documents its keys were sliced from', () => {
    const cache = new BoundedCache<number>(1024);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let d = 0; d < 40; d++) {
      const doc = Buffer.alloc(400_000, `${d}-`).toString('latin1'); // a flat string of 400,000 units, "d-d-d-…"
      cache.get(doc.slice(5_000, 5_020), () => d);
    }
    gc();
    // 40 documents of 400,000 one-byte characters would hold 16 MB.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(2_000_000);
    expect(cache.size).toBe(40);
    expect(ownCopy('abcdefghijklmnopqrstuvwxyz'.slice(3, 20))).toBe('defghijklmnopqrst');
    expect(ownCopy('short')).toBe('short');
  });
});
