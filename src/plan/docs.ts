/**
 * The in-cell documents of a build as the plan sees them: every census unit's document table
 * (src/census/docTable.ts, typed arrays over the file's bytes), numbered in unit order then
 * document order (the document's global index), plus 4 bytes per document (its token offset);
 * a document's unit is found by binary search over the units' first indexes. Ids stay UTF-8 bytes in the tables and become strings only when the plan needs one.
 *
 * Document ids are made unique per source (reduce.ts header): the first document in unit order
 * with a given id keeps it; a later one, whose id is already the final id of an earlier document,
 * gets `@<location>` appended. Done exactly that way, but only for the few documents that can be
 * concerned: those whose id hash (the first-use selection key, a 64-bit hash of the id for one
 * source and seed) equals another's, or equals the hash of an id made unique; ids are then compared
 * as strings, so a hash collision never merges two ids.
 */
import { InvariantError } from '../core/errors.ts';
import { packKey, selectionKey } from '../core/orderKeys.ts';
import { utf8At, utf8Length, type DocColumns } from '../census/docTable.ts';

/** One census unit's documents, as {@link CensusDocs} holds them. */
interface Slot {
  /** The census unit's index (its token file's name), -1 for a group unit. */
  unit: number;
  source: string;
  /** Global index of the unit's first document. */
  first: number;
  docs: DocColumns;
  /** Token offset of each document in the unit's token file. */
  offsets: Uint32Array | Float64Array;
}

/** The in-cell documents of a build (see the file header). */
export class CensusDocs {
  /** Number of documents. */
  readonly count: number;
  private readonly slots: Slot[] = [];
  /** `firsts[s]`: global index of slot s's first document (ascending; empty slots share it). */
  private readonly firsts: Int32Array;
  /** Final ids that differ from the ids the data gives, by global index. */
  private readonly renamed = new Map<number, string>();

  /**
   * @param units - the census units in unit order, each with its source and document table.
   * @param seed - the recipe seed the tables' keys were made with.
   */
  constructor(
    units: readonly { unit: number; source: string; docs: DocColumns }[],
    private readonly seed: number,
  ) {
    let first = 0;
    for (const { unit, source, docs } of units) {
      let total = 0;
      for (let i = 0; i < docs.length; i++) total += docs.lengthTokens[i];
      const offsets = total < 2 ** 32 ? new Uint32Array(docs.length) : new Float64Array(docs.length);
      for (let i = 0, at = 0; i < docs.length; at += docs.lengthTokens[i++]) offsets[i] = at;
      this.slots.push({ unit, source, first, docs, offsets });
      first += docs.length;
    }
    if (first > 2 ** 31 - 1) throw new InvariantError(`${first} in-cell documents: the plan indexes at most 2^31 - 1`);
    this.count = first;
    this.firsts = Int32Array.from(this.slots, (slot) => slot.first);
    for (const source of new Set(units.map((u) => u.source))) this.resolveIds(source);
  }

  /** The slot holding document `doc`: the last slot whose first index is at most `doc`. */
  private slotOf(doc: number): Slot {
    let lo = 0;
    let hi = this.firsts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.firsts[mid] <= doc) lo = mid;
      else hi = mid - 1;
    }
    return this.slots[lo];
  }

  /** Calls `f(slot)` for each unit of `source`, in unit order. */
  private forSource(source: string, f: (slot: Slot) => void): void {
    for (const slot of this.slots) if (slot.source === source) f(slot);
  }

  /** Source of document `doc`. */
  source(doc: number): string {
    return this.slotOf(doc).source;
  }

  /** Census unit (token file) of document `doc`. */
  unit(doc: number): number {
    return this.slotOf(doc).unit;
  }

  /** Offset of document `doc`'s first token (BOS) in its unit's token file, tokens. */
  offsetTokens(doc: number): number {
    const slot = this.slotOf(doc);
    return slot.offsets[doc - slot.first];
  }

  /** Final (unique) id of document `doc`. */
  id(doc: number): string {
    return this.renamed.get(doc) ?? this.rawId(doc);
  }

  /** UTF-8 bytes of document `doc`'s final id. */
  idBytes(doc: number): number {
    const renamed = this.renamed.get(doc);
    if (renamed !== undefined) return Buffer.byteLength(renamed, 'utf8');
    const slot = this.slotOf(doc);
    return utf8Length(slot.docs.id, doc - slot.first);
  }

  /** Selection key of document `doc`'s first use (src/core/orderKeys.ts), from its final id. */
  selectionKey(doc: number): bigint {
    const renamed = this.renamed.get(doc);
    if (renamed !== undefined) return selectionKey(this.seed, this.source(doc), renamed);
    const slot = this.slotOf(doc);
    return slot.docs.selectionKey[doc - slot.first];
  }

  /** Packing key of the first part of document `doc`'s first use, from its final id. */
  packKey(doc: number): bigint {
    const renamed = this.renamed.get(doc);
    if (renamed !== undefined) return packKey(this.seed, this.source(doc), renamed);
    const slot = this.slotOf(doc);
    return slot.docs.packKey[doc - slot.first];
  }

  /** Calls `f(doc, cell, lengthTokens)` for every document, in global order (cell: among its source's cells). */
  forEach(f: (doc: number, source: string, cell: number, lengthTokens: number) => void): void {
    for (const slot of this.slots) {
      const { cell, lengthTokens, length } = slot.docs;
      for (let i = 0; i < length; i++) f(slot.first + i, slot.source, cell[i], lengthTokens[i]);
    }
  }

  /** The id the data gives document `doc`. */
  private rawId(doc: number): string {
    const slot = this.slotOf(doc);
    return utf8At(slot.docs.id, doc - slot.first)!;
  }

  /** Makes the ids of `source` unique (the file header). */
  private resolveIds(source: string): void {
    let n = 0;
    this.forSource(source, (slot) => (n += slot.docs.length));
    const sorted = new BigUint64Array(n);
    let at = 0;
    this.forSource(source, (slot) => {
      sorted.set(slot.docs.selectionKey.subarray(0, slot.docs.length), at);
      at += slot.docs.length;
    });
    sorted.sort();
    // Hashes of the documents that may be concerned: repeated hashes, then those of ids made unique.
    const concerned = new Set<bigint>();
    for (let i = 1; i < n; i++) if (sorted[i] === sorted[i - 1]) concerned.add(sorted[i]);
    const present = (key: bigint) => {
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (sorted[mid] < key) lo = mid + 1;
        else hi = mid;
      }
      return lo < n && sorted[lo] === key;
    };
    while (concerned.size > 0) {
      const docs: number[] = [];
      this.forSource(source, (slot) => {
        for (let i = 0; i < slot.docs.length; i++) if (concerned.has(slot.docs.selectionKey[i])) docs.push(slot.first + i);
      });
      const seen = new Set<string>();
      let grew = false;
      for (const doc of docs) {
        const raw = this.rawId(doc);
        this.renamed.delete(doc);
        if (!seen.has(raw)) {
          seen.add(raw);
          continue;
        }
        const slot = this.slotOf(doc);
        const id = `${raw}@${utf8At(slot.docs.idWhere, doc - slot.first) ?? raw}`;
        seen.add(id);
        this.renamed.set(doc, id);
        const key = selectionKey(this.seed, source, id);
        if (!concerned.has(key) && present(key)) {
          concerned.add(key);
          grew = true;
        }
      }
      if (!grew) break;
    }
  }
}
