/**
 * Pass 1 of a build: read every source, tokenize every document once (worker pool, order kept),
 * count it, put it in its cell (source × length bucket) or count it as `length_filter`, and,
 * when a spill is given, append its tokens to the spill for pass 2. `plan` runs this pass
 * without a spill.
 */
import type { Recipe } from '../config/schema.ts';
import type { BadRecord, Doc } from '../core/doc.ts';
import { InputError } from '../core/errors.ts';
import type { InputFile } from '../read/files.ts';
import { readSources, type ResolvedSource } from '../read/index.ts';
import { cellOf, sourceCells, type CellSpec } from '../config/cells.ts';
import type { Candidate } from '../select/plan.ts';
import type { TokenizerPool } from '../tokenize/pool.ts';
import { addDoc, newAccount, type SourceAccount } from '../manifest/ledger.ts';
import type { TokenSpill } from './spill.ts';

/** An in-cell document of the census, as the write stage needs it. */
export interface WriteDoc {
  source: string;
  id: string;
  /** Offset of the document's first token (BOS) in the spill, tokens. */
  spillOffsetTokens: number;
}

/** Counters reported while a build runs (for a progress display). */
export interface BuildProgress {
  phase: 'tokenize' | 'write';
  documents: number;
  tokens: number;
  rows: number;
  totalRows: number;
  /** Input bytes consumed (compressed size for compressed files). */
  inputBytes: number;
  totalInputBytes: number;
}

/** The outcome of pass 1. */
export interface Census {
  /** Every cell of the recipe, in recipe then bucket order; `candidates[i]` belong to `cells[i]`. */
  cells: CellSpec[];
  candidates: Candidate[][];
  /** In-cell documents in read order (spill offsets are valid only when a spill was given). */
  docs: WriteDoc[];
  accounts: Record<string, SourceAccount>;
}

function badRecordError(bad: BadRecord): InputError {
  return new InputError(
    `${bad.where}: ${bad.detail} (source "${bad.source}", reason ${bad.reason}); fix the record, or set onBadRecord: skip to skip and count such records`,
    { ...bad },
  );
}

/**
 * Runs pass 1.
 * @throws InputError on the first bad record under `onBadRecord: fail`, or an unreadable file.
 */
export async function takeCensus(
  recipe: Recipe,
  sources: readonly ResolvedSource[],
  pool: TokenizerPool,
  spill: TokenSpill | undefined,
  progress: BuildProgress,
  onProgress?: (p: BuildProgress) => void,
): Promise<Census> {
  const cells: CellSpec[] = [];
  const firstCell = new Map<string, number>();
  const cellsOf = new Map<string, CellSpec[]>();
  const accounts: Record<string, SourceAccount> = {};
  for (const { config, files } of sources) {
    const own = sourceCells(config, recipe.scale);
    firstCell.set(config.name, cells.length);
    cellsOf.set(config.name, own);
    cells.push(...own);
    accounts[config.name] = newAccount(config.window, files.length, own);
  }
  const candidates: Candidate[][] = cells.map(() => []);
  const docs: WriteDoc[] = [];
  let finishedFileBytes = 0;
  async function* documents(): AsyncGenerator<Doc> {
    const items = readSources(
      sources,
      (bytesInFile) => (progress.inputBytes = finishedFileBytes + bytesInFile),
      (file: InputFile) => (finishedFileBytes += file.sizeBytes),
    );
    for await (const item of items) {
      if (item.kind === 'doc') yield item.doc;
      else if (item.kind === 'filtered') {
        const filtered = accounts[item.filtered.source].qualityFiltered;
        filtered.documents++;
        filtered.chars += item.filtered.chars;
      } else if (item.kind === 'skipped') accounts[item.skipped.source].skipped[item.skipped.reason]++;
      else if (recipe.onBadRecord === 'fail') throw badRecordError(item.bad);
      else {
        const counts = accounts[item.bad.source].badRecords;
        counts[item.bad.reason] = (counts[item.bad.reason] ?? 0) + 1;
      }
    }
  }
  for await (const doc of pool.tokenize(documents())) {
    const account = accounts[doc.source];
    const lengthTokens = doc.ids.length;
    addDoc(account.read, lengthTokens);
    progress.documents++;
    progress.tokens += lengthTokens;
    onProgress?.(progress);
    const local = cellOf(cellsOf.get(doc.source)!, lengthTokens);
    if (local === -1) {
      addDoc(account.dropped.length_filter, lengthTokens);
      continue;
    }
    addDoc(account.cells[local].available, lengthTokens);
    candidates[firstCell.get(doc.source)! + local].push({ index: docs.length, id: doc.id, lengthTokens });
    docs.push({ source: doc.source, id: doc.id, spillOffsetTokens: spill ? await spill.append(doc.ids) : -1 });
  }
  for (const { config, files } of sources) {
    const account = accounts[config.name];
    if (account.read.documents === 0 && account.qualityFiltered.documents === 0) {
      const bad = Object.entries(account.badRecords)
        .map(([reason, n]) => `${n} ${reason}`)
        .join(', ');
      const { empty_file: emptyFiles, blank_line: blankLines } = account.skipped;
      const empty = emptyFiles ? `; ${emptyFiles} of them held no record${blankLines ? ` (${blankLines} blank lines)` : ''}` : '';
      throw new InputError(
        `Source "${config.name}": no document was read from its ${files.length} file(s)${empty}${bad ? ` (bad records skipped: ${bad})` : ''}; check its format or dataset, textField and paths`,
        { source: config.name },
      );
    }
  }
  return { cells, candidates, docs, accounts };
}
