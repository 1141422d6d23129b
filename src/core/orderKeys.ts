/**
 * The seeded order keys of selection and packing, in one place: the census units compute the
 * first-use keys of every in-cell document beside its id (src/census/docTable.ts), and the
 * planner computes the others (repeats, split parts, renamed duplicates) with the same rules.
 *
 * - Selection (src/select/plan.ts): a cell's documents are taken in ascending
 *   `derivedKey(seed, source, docId)` for their first use, `derivedKey(seed, source, docId,
 *   "repeat:<k>")` for use k ≥ 1; ties by document id.
 * - Packing (src/pack/plan.ts): pieces enter the packer in ascending
 *   `derivedKey(seed, "pack", source, docId, String(repeat), String(part))`; ties by creation order.
 */
import { derivedKey } from './rng.ts';

/** Selection key of use `repeat` (0: first use) of document `docId` of `source`. */
export function selectionKey(seed: number, source: string, docId: string, repeat = 0): bigint {
  return repeat === 0 ? derivedKey(seed, source, docId) : derivedKey(seed, source, docId, `repeat:${repeat}`);
}

/** Packing stream key of part `part` of use `repeat` of document `docId` of `source`. */
export function packKey(seed: number, source: string, docId: string, repeat = 0, part = 0): bigint {
  return derivedKey(seed, 'pack', source, docId, String(repeat), String(part));
}
