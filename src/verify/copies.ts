/**
 * `verify`'s check of copies (uses under `maxRepetition > 1`) of a document: two copies never in
 * one row unless the recipe's `packing.allowCopiesInRow` is true, and rows holding different
 * copies more than `packing.repeatSpacingRows` rows apart in the training order (row_id). The
 * options are read from the manifest's resolved recipe (absent: false and 0).
 */
import type { Manifest } from '../manifest/types.ts';
import { fail, type Tally } from './row.ts';

/** The copy options a build was made with. */
export function copyOptionsOf(manifest: Manifest): { allowCopiesInRow: boolean; repeatSpacingRows: number } {
  const packing = (manifest.recipe.resolved as { packing?: { allowCopiesInRow?: unknown; repeatSpacingRows?: unknown } } | null)?.packing;
  const spacing = packing?.repeatSpacingRows;
  return {
    allowCopiesInRow: packing?.allowCopiesInRow === true,
    repeatSpacingRows: typeof spacing === 'number' && Number.isSafeInteger(spacing) && spacing > 0 ? spacing : 0,
  };
}

/**
 * Checks the copies of every document in `tally.uses` against the manifest's options.
 * @param shardOf - the shard file that holds a row_id (for messages).
 * @throws InvariantError naming the shard, the row and the document of the first violation.
 */
export function checkCopies(manifest: Manifest, tally: Tally, shardOf: (rowId: number) => string): void {
  const { allowCopiesInRow, repeatSpacingRows } = copyOptionsOf(manifest);
  for (const [doc, uses] of tally.uses) {
    if (!uses.some((u) => u.repeat !== uses[0].repeat)) continue;
    const name = doc.replace('\u0000', ' ');
    const sorted = uses.slice().sort((a, b) => a.rowId - b.rowId || a.repeat - b.repeat);
    for (let i = 1; i < sorted.length; i++) {
      const here = sorted[i];
      for (let j = i - 1; j >= 0 && here.rowId - sorted[j].rowId <= repeatSpacingRows; j--) {
        const there = sorted[j];
        if (there.repeat === here.repeat) continue;
        if (there.rowId === here.rowId) {
          if (allowCopiesInRow) continue;
          fail(`holds copies ${there.repeat} and ${here.repeat} of ${name} (packing.allowCopiesInRow is false)`, shardOf(here.rowId), here.rowId);
        }
        fail(
          `holds copy ${here.repeat} of ${name}, ${here.rowId - there.rowId} rows after copy ${there.repeat} in row ${there.rowId}; packing.repeatSpacingRows is ${repeatSpacingRows}`,
          shardOf(here.rowId),
          here.rowId,
        );
      }
    }
  }
}
