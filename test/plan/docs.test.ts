import { describe, expect, it } from 'vitest';
import { decodeDocTable, encodeDocTable, type DocColumns } from '../../src/census/docTable.ts';
import { derivedKey, SplitMix64 } from '../../src/core/rng.ts';
import { CensusDocs } from '../../src/plan/docs.ts';

const SEED = 3;

interface UnitSpec {
  source: string;
  ids: string[];
  where?: (string | null)[];
}

/** Document tables of `units` as the census units write them (cell 0, lengths 1, 2, …). */
function tables(units: readonly UnitSpec[]): { unit: number; source: string; docs: DocColumns }[] {
  return units.map((u, i) => {
    const table = { cell: u.ids.map(() => 0), lengthTokens: u.ids.map((_, k) => k + 1), id: u.ids, idWhere: u.where ?? u.ids.map((_, k) => `f${i}:${k}`) };
    return { unit: i, source: u.source, docs: decodeDocTable(encodeDocTable(table, SEED, u.source), `u${i}`, { source: u.source, seed: SEED }) };
  });
}

/** The rule of src/plan/reduce.ts's header, done the plain way: a set of final ids per source. */
function referenceIds(units: readonly { source: string; docs: DocColumns }[], ids: readonly UnitSpec[]): string[] {
  const seen = new Map<string, Set<string>>();
  const out: string[] = [];
  units.forEach((u, i) => {
    const set = seen.get(u.source) ?? seen.set(u.source, new Set()).get(u.source)!;
    ids[i].ids.forEach((raw, k) => {
      const where = (ids[i].where ?? ids[i].ids.map((_, j) => `f${i}:${j}`))[k];
      const id = set.has(raw) ? `${raw}@${where ?? raw}` : raw;
      set.add(id);
      out.push(id);
    });
  });
  return out;
}

describe('CensusDocs', () => {
  it('numbers documents in unit order, with their unit, source, token offset and final id', () => {
    const units = tables([
      { source: 'web', ids: ['a', 'b', 'a'] },
      { source: 'code', ids: ['a'] },
      { source: 'web', ids: ['b', 'a@f0:2', 'c'], where: ['f2:0', null, 'f2:2'] },
    ]);
    const docs = new CensusDocs(units, SEED);
    expect(docs.count).toBe(7);
    const all = Array.from({ length: 7 }, (_, d) => [docs.unit(d), docs.source(d), docs.offsetTokens(d), docs.id(d), docs.idBytes(d)]);
    expect(all).toEqual([
      [0, 'web', 0, 'a', 1],
      [0, 'web', 1, 'b', 1],
      [0, 'web', 3, 'a@f0:2', 6],
      [1, 'code', 0, 'a', 1],
      [2, 'web', 0, 'b@f2:0', 6],
      // Its raw id is the final id of an earlier document: made unique with itself as location.
      [2, 'web', 1, 'a@f0:2@a@f0:2', 13],
      [2, 'web', 3, 'c', 1],
    ]);
    // Keys follow the final id: the table's for kept ids, recomputed for the others.
    expect(docs.selectionKey(0)).toBe(derivedKey(SEED, 'web', 'a'));
    expect(docs.selectionKey(2)).toBe(derivedKey(SEED, 'web', 'a@f0:2'));
    expect(docs.packKey(5)).toBe(derivedKey(SEED, 'pack', 'web', 'a@f0:2@a@f0:2', '0', '0'));
    const seen: unknown[] = [];
    docs.forEach((doc, source, cell, lengthTokens) => seen.push([doc, source, cell, lengthTokens]));
    expect(seen[4]).toEqual([4, 'web', 0, 1]);
  });

  it('gives the ids of the plain rule on many duplicates, across units', () => {
    const rng = new SplitMix64(9n);
    const specs: UnitSpec[] = Array.from({ length: 6 }, (_, u) => ({
      source: u % 3 === 0 ? 'code' : 'web',
      ids: Array.from({ length: 40 }, (_, k) =>
        rng.nextBelow(4) === 0 ? `x${rng.nextBelow(3)}@f${rng.nextBelow(6)}:${rng.nextBelow(40)}` : `x${rng.nextBelow(12)}`,
      ),
    }));
    const units = tables(specs);
    const docs = new CensusDocs(units, SEED);
    expect(Array.from({ length: docs.count }, (_, d) => docs.id(d))).toEqual(referenceIds(units, specs));
  });

  it('never merges two ids whose hashes collide', () => {
    const specs: UnitSpec[] = [{ source: 'web', ids: ['p', 'q', 'p', 'r'] }];
    const units = tables(specs);
    // Every document's hash equal, as if SHA-256's 64-bit prefixes collided.
    units[0].docs.selectionKey.fill(5n);
    const docs = new CensusDocs(units, SEED);
    expect(Array.from({ length: 4 }, (_, d) => docs.id(d))).toEqual(['p', 'q', 'p@f0:2', 'r']);
  });
});
