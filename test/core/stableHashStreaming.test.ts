import { describe, expect, it } from 'vitest';
import { stableHash, stableHashStreaming } from '../../src/core/stableJson.ts';

describe('stableHashStreaming', () => {
  const manifest = { z: 1, a: { y: [1, 2, { q: 'line\nbreak', b: null }], x: [] }, m: 'é"\\' };
  const shards = [
    { rows: [{ pieces: [{ docId: 'a\nb', unit: 3 }], rowId: 0 }], index: 0, file: '' },
    { rows: [], index: 1, file: '', rank: 1 },
  ];

  it('equals stableHash of the whole object, the array made item by item', () => {
    expect(stableHashStreaming({ manifest }, 'shards', shards)).toBe(stableHash({ manifest, shards }));
    function* lazy() {
      for (const s of shards) yield s;
    }
    expect(stableHashStreaming({ manifest }, 'shards', lazy())).toBe(stableHash({ manifest, shards }));
  });

  it('places the array among the keys in sorted order, and writes an empty one as []', () => {
    expect(stableHashStreaming({ zz: [1], a: 2, gone: undefined }, 'm', [[], {}, 3])).toBe(stableHash({ zz: [1], a: 2, m: [[], {}, 3] }));
    expect(stableHashStreaming({ manifest }, 'shards', [])).toBe(stableHash({ manifest, shards: [] }));
    expect(stableHashStreaming({}, 'shards', [1])).toBe(stableHash({ shards: [1] }));
  });

  it('writes every kind of value as canonical JSON does: nulls, empty containers, omitted members', () => {
    const odd = { b: [undefined, null, {}, [], { x: undefined, y: -0.5, z: true }], a: '\u2028\u0000"', c: [[[1]], { '': 'k' }] };
    expect(stableHashStreaming({ odd }, 'items', [odd, []])).toBe(stableHash({ odd, items: [odd, []] }));
    expect(() => stableHashStreaming({ bad: { n: Infinity } }, 'items', [])).toThrow(TypeError);
  });

  it('re-indents a value of several megabytes of text in pieces, multi-byte characters included', () => {
    const big = { schedule: { positions: Array.from({ length: 120_000 }, (_, i) => [i, `é😀${'\n'.repeat(i % 3)}`]) } };
    const shards = [{ rows: Array.from({ length: 50_000 }, (_, i) => ({ docId: `𝒳${i}` })) }];
    expect(stableHashStreaming({ manifest: big }, 'shards', shards)).toBe(stableHash({ manifest: big, shards }));
  });
});
