import { describe, expect, it } from 'vitest';
import { sortByKey } from '../../src/core/keySort.ts';
import { SplitMix64 } from '../../src/core/rng.ts';

describe('sortByKey', () => {
  it('orders positions as Array.prototype.sort by key, then tie-break, then position', () => {
    const rng = new SplitMix64(42n);
    for (const n of [0, 1, 2, 17, 1000]) {
      // Few distinct keys (many ties) spread over all 64 bits, and a tie-break that ties too.
      const pool = Array.from({ length: 1 + Math.floor(n / 4) }, () => (BigInt(rng.nextBelow(2 ** 32)) << 32n) | BigInt(rng.nextBelow(2 ** 32)));
      const keys = BigUint64Array.from({ length: n }, () => pool[rng.nextBelow(pool.length)]);
      const label = Array.from({ length: n }, () => rng.nextBelow(3));
      const tie = (a: number, b: number) => label[a] - label[b];
      const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : tie(a, b) || a - b));
      expect(Array.from(sortByKey(keys, tie))).toEqual(expected);
      const plain = Array.from({ length: n }, (_, i) => i).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
      expect(Array.from(sortByKey(keys))).toEqual(plain);
    }
  });

  it('handles the extreme keys', () => {
    const keys = BigUint64Array.from([2n ** 64n - 1n, 0n, 2n ** 32n, 2n ** 32n - 1n, 1n]);
    expect(Array.from(sortByKey(keys))).toEqual([1, 4, 3, 2, 0]);
  });
});
