/**
 * The outputs of one census unit (read + tokenize of one input file), as the plan and write
 * stages read them back. Three files per unit, named by the unit (never by the task or worker
 * that made them):
 *
 * - `<unit>.tokens`: the token ids of the unit's in-cell documents, int32 little-endian, one
 *   document after another in document order (BOS … EOS each); 4 bytes per token.
 * - `<unit>.docs.arrow`: the document table (src/census/docTable.ts): per in-cell document its
 *   cell, length, id and location, and its first-use order keys. Document i starts at token
 *   `sum(lengthTokens[0..i))` of the token file.
 * - `<unit>.counts.json`: the unit's additive counts ({@link CensusCounts}).
 *
 * Document ids are not made unique here: the plan resolves duplicates across all units of a
 * source, so ids never depend on how inputs were split into units or tasks.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { InvariantError } from '../core/errors.ts';
import type { BadRecordReason, SkippedReason } from '../core/doc.ts';
import type { CorruptFile, DocTokens, LengthDropReason } from '../manifest/ledger.ts';

/** The additive counts of one census unit. Tokens include BOS/EOS. */
export interface CensusCounts {
  source: string;
  /** Documents tokenized, and their tokens. */
  read: DocTokens;
  /** Tokenized documents in no cell: shorter than `lengthTokens.min`, longer than `max`, or in range but in no bucket. */
  lengthDropped: Record<LengthDropReason, DocTokens>;
  /** Per cell of the source (bucket order): in-cell documents and tokens. */
  cells: DocTokens[];
  /** Records that could not be read, by reason (only under `onBadRecord: skip`). */
  badRecords: Partial<Record<BadRecordReason, number>>;
  /** Documents left out by RedPajama-v2 quality filters before tokenization (characters: never tokenized). */
  qualityFiltered: { documents: number; chars: number };
  /** Input that holds no record, by reason. */
  skipped: Record<SkippedReason, number>;
  /** Files left out whole under `onBadFile: skip`. */
  corruptFiles: CorruptFile[];
  /** Documents not tokenized: their UTF-8 length proves they are shorter than the smallest bucket (documents, bytes). */
  prefiltered: { documents: number; bytes: number };
}

/**
 * The document table of one unit as the census unit gathers it, columnar (`idWhere[i]` null when
 * it equals `id[i]`); written as `<unit>.docs.arrow` (src/census/docTable.ts).
 */
export interface DocTable {
  cell: number[];
  lengthTokens: number[];
  id: string[];
  idWhere: (string | null)[];
}

/** A fresh, empty document table. */
export function emptyDocTable(): DocTable {
  return { cell: [], lengthTokens: [], id: [], idWhere: [] };
}

/** Fresh zero counts for `source` with `cellCount` cells. */
export function emptyCounts(source: string, cellCount: number): CensusCounts {
  const zero = (): DocTokens => ({ documents: 0, tokens: 0 });
  return {
    source,
    read: zero(),
    lengthDropped: { too_short: zero(), too_long: zero(), outside_buckets: zero() },
    cells: Array.from({ length: cellCount }, zero),
    badRecords: {},
    qualityFiltered: { documents: 0, chars: 0 },
    skipped: { blank_line: 0, empty_file: 0 },
    corruptFiles: [],
    prefiltered: { documents: 0, bytes: 0 },
  };
}

/** Reads ranges of token ids from one unit's token file (positional reads; one open handle). */
export class TokenFileReader {
  private constructor(
    private readonly file: string,
    private readonly handle: FileHandle,
  ) {}

  /** Opens `file` for reading. */
  static async open(file: string): Promise<TokenFileReader> {
    return new TokenFileReader(file, await open(file, 'r'));
  }

  /**
   * Reads tokens `[offsetTokens, offsetTokens + target.length)` into `target`.
   * @throws InvariantError when the file ends before the range does.
   */
  async read(offsetTokens: number, target: Int32Array): Promise<void> {
    const bytes = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await this.handle.read(bytes, done, bytes.length - done, offsetTokens * 4 + done);
      if (bytesRead === 0)
        throw new InvariantError(`${this.file}: token file ends at byte ${offsetTokens * 4 + done}, before the tokens the plan asks for`, { file: this.file });
      done += bytesRead;
    }
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}
