/**
 * One census unit: read one input file (or, for a StarCoder source grouped by repository, all of
 * its files), tokenize every document, put it in its cell (source × length bucket) or count why
 * it is in none, and write the unit's outputs (./store.ts). Everything a unit does depends only on
 * its input bytes, the recipe and the tokenizer, never on which task or worker runs it.
 *
 * Input identity: a local file is hashed (SHA-256) after it is read, and its `stat` (device,
 * inode, size, mtime, ctime) taken before reading must equal the one after: a file replaced or
 * modified while it was read fails the unit instead of recording a hash of other bytes than
 * those read. A hub file downloaded into the cache is named by the sha256 the hub lists (checked
 * when downloaded); a Parquet file read from the hub by ranges by its listed identity.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import type { CellSpec } from '../config/cells.ts';
import { cellOf } from '../config/cells.ts';
import type { Recipe, SourceConfig } from '../config/schema.ts';
import type { BadRecord, ReadItem } from '../core/doc.ts';
import { CorruptInputError, InputError } from '../core/errors.ts';
import type { InputIdentity } from '../manifest/types.ts';
import { ensureLocal, type InputFile } from '../read/files.ts';
import { readerContext, readFile } from '../read/index.ts';
import { readStarcoderRepositories } from '../read/datasets/starcoder.ts';
import type { Tokenizer } from '../tokenize/tokenizer.ts';
import { emptyCounts, emptyDocTable, type CensusCounts, type DocTable } from './store.ts';

/** What a census unit reads. */
export interface CensusUnitInput {
  recipe: Pick<Recipe, 'onBadRecord' | 'onBadFile'>;
  source: SourceConfig;
  /** The source's cells, sorted by `min` (bucket order). */
  cells: readonly CellSpec[];
  /** The file(s) of the unit: one, or every file of a StarCoder source grouped by repository. */
  files: readonly InputFile[];
  /** Directory that relative sibling paths resolve from (the recipe's). */
  baseDir: string;
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

function badRecordError(bad: BadRecord): InputError {
  return new InputError(
    `${bad.where}: ${bad.detail} (source "${bad.source}", reason ${bad.reason}); fix the record, or set onBadRecord: skip to skip and count such records`,
    {
      ...bad,
    },
  );
}

const sameFile = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/** SHA-256 (hex) of a local file, streamed. */
async function sha256Of(absPath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(absPath, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A file's local path and its stat before reading (null for a hub file read by ranges). */
interface Opened {
  file: InputFile;
  before: Stats | null;
}

/**
 * Makes a file readable (a hub file other than Parquet is downloaded into the cache first) and
 * takes its stat before it is read.
 * @throws InputError naming the file when it cannot be read.
 */
async function openInput(source: SourceConfig, file: InputFile): Promise<Opened> {
  const parquet = source.format === 'parquet' || source.dataset === 'fineweb-edu' || source.dataset === 'starcoder';
  const local = file.hub && !parquet ? await ensureLocal(file) : file;
  if (!local.absPath) return { file: local, before: null };
  let before: Stats;
  try {
    before = await stat(local.absPath);
  } catch (error) {
    throw new InputError(`${file.relPath}: cannot read input file (${local.absPath}): ${(error as Error).message}`, { file: file.relPath }, { cause: error });
  }
  // A local file as the build listed it when it started (size and modification time).
  const listed = file as InputFile & { mtimeMs?: number | null };
  if (!file.hub && listed.mtimeMs != null && (before.size !== file.sizeBytes || before.mtimeMs !== listed.mtimeMs)) {
    throw new InputError(
      `${file.relPath}: the file changed since the build started (listed with ${file.sizeBytes} bytes, now ${before.size}; modified since): its documents would not match the rest of the build. Run the build again with --restart`,
      { file: file.relPath },
    );
  }
  return { file: local, before };
}

/**
 * The identity of a file that has been read: its hash (see the file header) and size.
 * @throws InputError when a local file changed while it was read.
 */
async function identityOf(source: string, opened: Opened): Promise<InputIdentity> {
  const { file, before } = opened;
  const hub = file.hub;
  if (before === null || (hub && hub.sha256)) {
    // Read from the hub (by ranges, or downloaded and checked against the listed sha256).
    return { source, path: file.relPath, sizeBytes: file.sizeBytes, sha256: hub?.sha256 ?? null, etag: hub?.etag ?? null };
  }
  const sha256 = await sha256Of(file.absPath);
  const after = await stat(file.absPath).catch(() => null);
  if (!after || !sameFile(before, after)) {
    throw new InputError(
      `${file.relPath}: the file changed while it was read (${file.absPath}); its documents would not match any one version of it. Run the build again once it no longer changes`,
      {
        file: file.relPath,
      },
    );
  }
  return { source, path: file.relPath, sizeBytes: before.size, sha256, etag: hub?.etag ?? null };
}

/**
 * Runs one census unit: every document of its files is tokenized once; in-cell documents go to
 * `sink` and the document table, every other outcome is counted.
 * @throws InputError on the first bad record under `onBadRecord: fail`, an unreadable file, or a
 *   file that changed while it was read.
 */
export async function runCensusUnit(
  input: CensusUnitInput,
  tokenizer: Tokenizer,
  sink: TokenSink,
  onProgress?: (p: CensusUnitProgress) => void,
): Promise<CensusUnitResult> {
  const { source, cells } = input;
  const counts = emptyCounts(source.name, cells.length);
  const docs = emptyDocTable();
  const progress: CensusUnitProgress = { documents: 0, tokens: 0, inputBytes: 0 };
  const ctx = readerContext(source, input.baseDir, (bytes) => (progress.inputBytes = bytes));
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
  const { min, max } = source.lengthTokens;

  const take = async (item: ReadItem): Promise<void> => {
    if (item.kind === 'filtered') {
      counts.qualityFiltered.documents++;
      counts.qualityFiltered.chars += item.filtered.chars;
    } else if (item.kind === 'skipped') counts.skipped[item.skipped.reason]++;
    else if (item.kind === 'bad') {
      if (input.recipe.onBadRecord === 'fail') throw badRecordError(item.bad);
      counts.badRecords[item.bad.reason] = (counts.badRecords[item.bad.reason] ?? 0) + 1;
    } else {
      const ids = await tokenizer.encodeDocument(item.doc.text);
      const lengthTokens = ids.length;
      counts.read.documents++;
      counts.read.tokens += lengthTokens;
      progress.documents++;
      progress.tokens += lengthTokens;
      onProgress?.(progress);
      const cell = cellOf(cells, lengthTokens);
      if (cell === -1) {
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
      await sink.append(ids);
    }
  };

  if (source.dataset === 'starcoder' && source.repositories) {
    for await (const item of readStarcoderRepositories(
      ctx,
      opened.map((o) => o.file),
    ))
      await take(item);
  } else {
    for (const { file } of opened) {
      let records = 0;
      try {
        for await (const item of readFile(source, file, ctx)) {
          if (item.kind !== 'skipped') records++;
          await take(item);
        }
      } catch (error) {
        if (!(error instanceof CorruptInputError) || input.recipe.onBadFile !== 'skip' || input.files.length !== 1) throw error;
        // onBadFile: skip leaves the whole file out (what it yielded before the break may be damaged too).
        await sink.reset();
        const corruptFiles = [{ path: file.relPath, byteOffset: error.byteOffset, recordsRead: error.recordsRead, error: error.message }];
        return {
          counts: { ...emptyCounts(source.name, cells.length), corruptFiles },
          docs: emptyDocTable(),
          inputs: [await identityOf(source.name, opened[0])],
        };
      }
      if (records === 0) counts.skipped.empty_file++;
    }
  }
  const inputs: InputIdentity[] = [];
  for (const o of opened) inputs.push(await identityOf(source.name, o));
  for (const o of siblings) inputs.push({ ...(await identityOf(source.name, o)), role: 'quality_signals' });
  return { counts, docs, inputs };
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
