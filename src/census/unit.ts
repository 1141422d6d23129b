/**
 * One census unit: tokenize every document of one input file (or of one StarCoder repository
 * partition, src/group/), put it in its cell (source × length bucket) or count why it is in none,
 * and return what the unit's outputs hold (./store.ts). Everything a unit does depends only on its
 * input bytes, the recipe and the tokenizer, never on which task or worker runs it. Input
 * identities come from the bytes read (src/read/identity.ts).
 */
import { open } from 'node:fs/promises';
import type { CellSpec } from '../config/cells.ts';
import { cellOf } from '../config/cells.ts';
import type { Recipe, SourceConfig } from '../config/schema.ts';
import type { BadRecord, ReadItem } from '../core/doc.ts';
import { CorruptInputError, InputError } from '../core/errors.ts';
import type { InputIdentity } from '../manifest/types.ts';
import type { InputFile } from '../read/files.ts';
import { identityOf, openInput, type Opened } from '../read/identity.ts';
import { readerContext, readFile } from '../read/index.ts';
import { repositoryDocuments, type RepositoryEntry } from '../read/datasets/starcoder.ts';
import { documentTokenBound } from '../tokenize/tokenBound.ts';
import type { Tokenizer } from '../tokenize/tokenizer.ts';
import { emptyCounts, emptyDocTable, type CensusCounts, type DocTable } from './store.ts';

/** What a census unit of input files reads. */
export interface CensusUnitInput {
  recipe: Pick<Recipe, 'onBadRecord' | 'onBadFile'>;
  source: SourceConfig;
  /** The source's cells, sorted by `min` (bucket order). */
  cells: readonly CellSpec[];
  /** The unit's input file. */
  files: readonly InputFile[];
  /** Directory that relative sibling paths resolve from (the recipe's). */
  baseDir: string;
}

/** Byte range `[start, end)` of a group unit's entries file holding one partition (JSON lines of {@link RepositoryEntry}). */
export interface PartitionRange {
  file: string;
  start: number;
  end: number;
}

/** What a census unit of one StarCoder repository partition reads: the partition's range in every group unit's entries, in unit order. */
export interface PartitionUnitInput {
  recipe: Pick<Recipe, 'onBadRecord'>;
  source: SourceConfig;
  cells: readonly CellSpec[];
  ranges: readonly PartitionRange[];
}

/** Where a census unit puts its tokens: an append-only sink of int32 ids. */
export interface TokenSink {
  append(ids: Int32Array): Promise<void>;
  /** Drops everything appended so far. */
  reset(): Promise<void>;
}

/** Progress of a running unit: documents and tokens so far, raw input bytes read in the current file. */
export interface CensusUnitProgress {
  documents: number;
  tokens: number;
  inputBytes: number;
}

/** What a census unit produced besides its tokens. */
export interface CensusUnitResult {
  counts: CensusCounts;
  docs: DocTable;
  /** The identity of each input file, from the bytes read. */
  inputs: InputIdentity[];
}

/** The error of a bad record under `onBadRecord: fail`, naming where it is and the fix. */
export function badRecordError(bad: BadRecord): InputError {
  return new InputError(
    `${bad.where}: ${bad.detail} (source "${bad.source}", reason ${bad.reason}); fix the record, or set onBadRecord: skip to skip and count such records`,
    { ...bad },
  );
}

/**
 * Counts non-document items (filtered, skipped, bad records under the recipe's policy) into `counts`.
 * @returns false for a document (the caller handles it).
 * @throws InputError on a bad record under `onBadRecord: fail`.
 */
export function countItem(item: ReadItem, counts: CensusCounts, onBadRecord: Recipe['onBadRecord']): boolean {
  if (item.kind === 'filtered') {
    counts.qualityFiltered.documents++;
    counts.qualityFiltered.chars += item.filtered.chars;
  } else if (item.kind === 'skipped') counts.skipped[item.skipped.reason]++;
  else if (item.kind === 'bad') {
    if (onBadRecord === 'fail') throw badRecordError(item.bad);
    counts.badRecords[item.bad.reason] = (counts.badRecords[item.bad.reason] ?? 0) + 1;
  } else return false;
  return true;
}

/** Tokenizes documents into a unit's cells, token sink and document table, counting everything else. */
class Collector {
  readonly counts: CensusCounts;
  readonly docs: DocTable = emptyDocTable();
  readonly progress: CensusUnitProgress = { documents: 0, tokens: 0, inputBytes: 0 };

  /** Fewest tokens of a document in any cell of the source. */
  private readonly minTokens: number;
  /** The tokenizer's proven tokens-from-bytes bound; absent: no prefilter (every document is tokenized). */
  private readonly bound: ((utf8Bytes: number) => number) | undefined;

  constructor(
    private readonly source: SourceConfig,
    private readonly cells: readonly CellSpec[],
    private readonly onBadRecord: Recipe['onBadRecord'],
    private readonly tokenizer: Tokenizer,
    private readonly sink: TokenSink,
    private readonly onProgress?: (p: CensusUnitProgress) => void,
  ) {
    this.counts = emptyCounts(source.name, cells.length);
    // prefilter false: a minimum of 0 tokens never skips a document.
    this.minTokens = source.prefilter === false ? 0 : Math.min(...cells.map((c) => c.min));
    this.bound = source.prefilter === false ? undefined : documentTokenBound(tokenizer.identity);
  }

  async take(item: ReadItem): Promise<void> {
    if (countItem(item, this.counts, this.onBadRecord) || item.kind !== 'doc') return;
    const { counts, docs, progress } = this;
    // The byte prefilter: a document whose UTF-8 length proves it cannot reach the smallest bucket
    // is counted, never tokenized (most web documents are far below a long source's 8k tokens).
    if (this.bound) {
      const bytes = Buffer.byteLength(item.doc.text, 'utf8');
      if (this.bound(bytes) < this.minTokens) {
        counts.prefiltered.documents++;
        counts.prefiltered.bytes += bytes;
        return;
      }
    }
    const ids = await this.tokenizer.encodeDocument(item.doc.text);
    const lengthTokens = ids.length;
    counts.read.documents++;
    counts.read.tokens += lengthTokens;
    progress.documents++;
    progress.tokens += lengthTokens;
    this.onProgress?.(progress);
    const cell = cellOf(this.cells, lengthTokens);
    if (cell === -1) {
      const { min, max } = this.source.lengthTokens;
      const reason = lengthTokens < min ? 'too_short' : lengthTokens > max ? 'too_long' : 'outside_buckets';
      counts.lengthDropped[reason].documents++;
      counts.lengthDropped[reason].tokens += lengthTokens;
      return;
    }
    counts.cells[cell].documents++;
    counts.cells[cell].tokens += lengthTokens;
    docs.cell.push(cell);
    docs.lengthTokens.push(lengthTokens);
    docs.id.push(item.doc.id);
    docs.idWhere.push(item.doc.idWhere === item.doc.id ? null : item.doc.idWhere);
    await this.sink.append(ids);
  }
}

/**
 * Runs one census unit of an input file: every document is tokenized once; in-cell documents go
 * to `sink` and the document table, every other outcome is counted. Under `onBadFile: skip`, a
 * file that breaks part-way is left out whole and listed.
 * @throws InputError on the first bad record under `onBadRecord: fail`, an unreadable file, a file
 *   that changed while it was read; CorruptInputError on a broken file under `onBadFile: fail`.
 */
export async function runCensusUnit(
  input: CensusUnitInput,
  tokenizer: Tokenizer,
  sink: TokenSink,
  onProgress?: (p: CensusUnitProgress) => void,
): Promise<CensusUnitResult> {
  const { source, cells } = input;
  const collector = new Collector(source, cells, input.recipe.onBadRecord, tokenizer, sink, onProgress);
  const ctx = readerContext(source, input.baseDir, (bytes) => (collector.progress.inputBytes = bytes));
  const opened: Opened[] = [];
  for (const file of input.files) opened.push(await openInput(source, file));
  // Files read beside the unit's own (RedPajama-v2 quality signals) decide what is kept: they are
  // inputs too, identified from the bytes read like the unit's files.
  const siblings: Opened[] = [];
  const resolve = ctx.resolveSibling;
  ctx.resolveSibling = async (relPath) => {
    const found = await resolve(relPath);
    if (!found) return null;
    const sibling = await openInput({ ...source, format: 'jsonl', dataset: undefined }, found);
    siblings.push(sibling);
    return sibling.file;
  };
  for (const { file } of opened) {
    let records = 0;
    try {
      for await (const item of readFile(source, file, ctx)) {
        if (item.kind !== 'skipped') records++;
        await collector.take(item);
      }
    } catch (error) {
      if (!(error instanceof CorruptInputError) || input.recipe.onBadFile !== 'skip' || input.files.length !== 1) throw error;
      // onBadFile: skip leaves the whole file out (what it yielded before the break may be damaged too).
      await sink.reset();
      const corruptFiles = [{ path: file.relPath, byteOffset: error.byteOffset, recordsRead: error.recordsRead, error: error.message }];
      return { counts: { ...emptyCounts(source.name, cells.length), corruptFiles }, docs: emptyDocTable(), inputs: [await identityOf(source.name, opened[0])] };
    }
    if (records === 0) collector.counts.skipped.empty_file++;
  }
  const inputs: InputIdentity[] = [];
  for (const o of opened) inputs.push(await identityOf(source.name, o));
  for (const o of siblings) inputs.push({ ...(await identityOf(source.name, o)), role: 'quality_signals' });
  return { counts: collector.counts, docs: collector.docs, inputs };
}

/**
 * Runs one census unit of a StarCoder repository partition: the partition's entries from every
 * group unit (in unit order) become repository documents (src/read/datasets/starcoder.ts), which
 * are tokenized as a file unit's are. Memory: the partition's entries.
 */
export async function runPartitionUnit(
  input: PartitionUnitInput,
  tokenizer: Tokenizer,
  sink: TokenSink,
  onProgress?: (p: CensusUnitProgress) => void,
): Promise<CensusUnitResult> {
  const { source } = input;
  const collector = new Collector(source, input.cells, input.recipe.onBadRecord, tokenizer, sink, onProgress);
  const entries: RepositoryEntry[] = [];
  for (const range of input.ranges) {
    if (range.end <= range.start) continue;
    const handle = await open(range.file, 'r');
    try {
      const bytes = Buffer.alloc(range.end - range.start);
      await handle.read(bytes, 0, bytes.length, range.start);
      for (const line of bytes.toString('utf8').split('\n')) if (line) entries.push(JSON.parse(line) as RepositoryEntry);
    } finally {
      await handle.close();
    }
  }
  const options = source.repositories!;
  for (const item of repositoryDocuments(source.name, entries, options.separator, options.maxChars ?? 4 * source.lengthTokens.max)) await collector.take(item);
  return { counts: collector.counts, docs: collector.docs, inputs: [] };
}

/** An append-only token file written in chunks of about 1 MiB (int32 little-endian ids). */
export class TokenFileWriter implements TokenSink {
  private chunks: Int32Array[] = [];
  private bufferedBytes = 0;
  private position = 0;

  private constructor(private readonly handle: Awaited<ReturnType<typeof open>>) {}

  /** Creates (truncates) `file`. */
  static async create(file: string): Promise<TokenFileWriter> {
    return new TokenFileWriter(await open(file, 'w'));
  }

  /** Appends `ids` (copied). */
  async append(ids: Int32Array): Promise<void> {
    this.chunks.push(ids);
    this.bufferedBytes += ids.byteLength;
    if (this.bufferedBytes >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.bufferedBytes === 0) return;
    const bytes = new Uint8Array(this.bufferedBytes);
    let at = 0;
    for (const c of this.chunks) {
      bytes.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), at);
      at += c.byteLength;
    }
    await this.handle.write(bytes, 0, bytes.length, this.position);
    this.position += bytes.length;
    this.chunks = [];
    this.bufferedBytes = 0;
  }

  /** Drops everything appended so far (the file is truncated to 0 bytes). */
  async reset(): Promise<void> {
    this.chunks = [];
    this.bufferedBytes = 0;
    this.position = 0;
    await this.handle.truncate(0);
  }

  /** Writes what is buffered, flushes to disk and closes; returns the file's size, bytes. */
  async close(): Promise<number> {
    try {
      await this.flush();
      await this.handle.sync();
    } finally {
      await this.handle.close();
    }
    return this.position;
  }
}
