import { describe, expect, it } from 'vitest';
import { decodeDocTable, encodeDocTable, utf8At, utf8Length } from '../../src/census/docTable.ts';
import { InvariantError } from '../../src/core/errors.ts';
import { derivedKey } from '../../src/core/rng.ts';

const table = { cell: [0, 2, 1], lengthTokens: [5, 70000, 3], id: ['a', 'ünï/2', 'papers.jsonl:7'], idWhere: ['papers.jsonl:3', null, null] };

describe('census document tables (<unit>.docs.arrow)', () => {
  it('round-trips the columns and carries the first-use order keys of the source and seed', () => {
    const docs = decodeDocTable(encodeDocTable(table, 7, 'web'), 'u00001.docs.arrow', { source: 'web', seed: 7 });
    expect(docs.length).toBe(3);
    expect(Array.from(docs.cell)).toEqual([0, 2, 1]);
    expect(Array.from(docs.lengthTokens)).toEqual([5, 70000, 3]);
    expect([0, 1, 2].map((i) => utf8At(docs.id, i))).toEqual(['a', 'ünï/2', 'papers.jsonl:7']);
    expect([0, 1, 2].map((i) => utf8Length(docs.id, i))).toEqual([1, 7, 14]);
    expect([0, 1, 2].map((i) => utf8At(docs.idWhere, i))).toEqual(['papers.jsonl:3', null, null]);
    expect(Array.from(docs.selectionKey)).toEqual(table.id.map((id) => derivedKey(7, 'web', id)));
    expect(Array.from(docs.packKey)).toEqual(table.id.map((id) => derivedKey(7, 'pack', 'web', id, '0', '0')));
  });

  it('decodes an empty table', () => {
    const docs = decodeDocTable(encodeDocTable({ cell: [], lengthTokens: [], id: [], idWhere: [] }, 1, 'web'), 'f', { source: 'web', seed: 1 });
    expect(docs.length).toBe(0);
    expect(docs.selectionKey.length).toBe(0);
  });

  it('refuses a table made for another seed or source, and bytes that are not a table, naming the file', () => {
    const bytes = encodeDocTable(table, 7, 'web');
    expect(() => decodeDocTable(bytes, 'w/u00001.docs.arrow', { source: 'web', seed: 8 })).toThrow(
      'w/u00001.docs.arrow: document table of {"format":"longmix-docs/1","source":"web","seed":7}, expected {"format":"longmix-docs/1","source":"web","seed":8}; rerun the build with --restart',
    );
    expect(() => decodeDocTable(bytes, 'f', { source: 'code', seed: 7 })).toThrow(InvariantError);
    expect(() => decodeDocTable(new TextEncoder().encode('{"cell":[]}'), 'w/u00002.docs.arrow', { source: 'web', seed: 7 })).toThrow(
      /^w\/u00002\.docs\.arrow: not a census document table: /,
    );
  });
});
