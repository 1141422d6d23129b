/**
 * StarCoder (bigcode/starcoderdata, gated): `<language>/train-XXXXX-of-NNNNN.parquet`, one row
 * per source file, text in `content`. Without `repositories`, each file is a document with id
 * `<max_stars_repo_name>/<max_stars_repo_path>`.
 *
 * With `repositories` (to reach 8k–200k tokens, as LongRoPE2 needs), the files of one repository
 * (`max_stars_repo_name`) are concatenated in path order with the recipe's separator into one
 * document, id `<repo>#<part>`; a file that would take the document past `maxChars` starts the
 * next part. Repositories may span Parquet files and row groups, so grouping is an external
 * group-by in bounded memory:
 *
 * 1. every row is appended, as one JSON line, to one of K partition files on disk chosen by the
 *    FNV-1a hash of its repository name, K = ceil(content bytes / partitionBytes) (content bytes
 *    from the Parquet metadata, uncompressed), at most 256 (open files);
 * 2. partitions are then read one at a time, grouped and sorted in memory (repositories by name,
 *    files by path), and emitted.
 *
 * Memory: one partition (about `partitionBytes` when repositories spread evenly; one repository
 * larger than that is held whole) plus one Parquet row group. Disk: the content once more.
 * Output order: partition, then repository name, then part: deterministic.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import type { ReadItem } from '../../core/doc.ts';
import type { InputFile } from '../files.ts';
import { parquetFileMetadata, parquetRecords } from '../parquet.ts';
import { textFromRecord } from '../record.ts';
import { textFieldOf, type ReaderContext } from './context.ts';
import { preferredId } from './ids.ts';

const REPO = 'max_stars_repo_name';
const PATH = 'max_stars_repo_path';
const MAX_PARTITIONS = 256;

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Reads one StarCoder file, one document per source file. */
export async function* readStarcoderFiles(ctx: ReaderContext, file: InputFile): AsyncGenerator<ReadItem> {
  const field = textFieldOf(ctx.source);
  for await (const item of parquetRecords(ctx.source.name, file, [field], [REPO, PATH], ctx.onRawBytes)) {
    if (item.kind !== 'record') {
      yield item;
      continue;
    }
    const record = item.record as Record<string, unknown>;
    const read = textFromRecord(ctx.source.name, item, record, field);
    const id = typeof record[REPO] === 'string' && typeof record[PATH] === 'string' ? `${record[REPO]}/${record[PATH]}` : null;
    if (read.kind === 'doc') read.doc.id = preferredId(id, item.idWhere);
    yield read;
  }
}

async function contentBytes(files: readonly InputFile[], field: string): Promise<number> {
  let total = 0;
  for (const file of files) {
    const metadata = await parquetFileMetadata(file);
    for (const rg of metadata.row_groups)
      for (const col of rg.columns) if (col.meta_data?.path_in_schema.join('.') === field) total += Number(col.meta_data.total_uncompressed_size);
  }
  return total;
}

/** One source file of a repository, on its way to its partition. */
export interface RepositoryEntry {
  repo: string;
  path: string;
  /** The file's location-independent place (`<idPath>#<row>`): tie-break and fallback id. */
  idWhere: string;
  text: string;
}

/** Partition (0-based, of `partitions`) of a repository: FNV-1a of its name modulo the count. */
export function partitionOf(repo: string, partitions: number): number {
  return fnv1a(repo) % partitions;
}

/**
 * Partitions for grouping `totalBytes` of StarCoder Parquet files (as stored) so that each holds
 * about `partitionBytes` of text: `ceil(4 × totalBytes / partitionBytes)` (code compresses about
 * 4× in these files), at least 1, at most 256. A function of the listing alone, so the units of
 * a build are known before anything is read.
 */
export function starcoderPartitions(totalBytes: number, partitionBytes: number): number {
  return Math.min(MAX_PARTITIONS, Math.max(1, Math.ceil((4 * totalBytes) / partitionBytes)));
}

/**
 * The rows of one StarCoder file as repository entries (`kind: 'entry'`), and its bad records and
 * skipped input as they are.
 */
export async function* starcoderEntries(ctx: ReaderContext, file: InputFile): AsyncGenerator<ReadItem | { kind: 'entry'; entry: RepositoryEntry }> {
  const field = textFieldOf(ctx.source);
  for await (const item of parquetRecords(ctx.source.name, file, [field, REPO, PATH], [], ctx.onRawBytes)) {
    if (item.kind !== 'record') {
      yield item;
      continue;
    }
    const record = item.record as Record<string, unknown>;
    const read = textFromRecord(ctx.source.name, item, record, field);
    if (read.kind !== 'doc') {
      yield read;
      continue;
    }
    const repo = typeof record[REPO] === 'string' ? record[REPO] : '';
    yield { kind: 'entry', entry: { repo, path: typeof record[PATH] === 'string' ? record[PATH] : '', idWhere: item.idWhere, text: read.doc.text } };
  }
}

/**
 * The documents of one partition's entries: repositories by name, each repository's files by path
 * (then location) concatenated with `separator`, a new part (`<repo>#<part>`) before the file that
 * would take a part past `maxChars`; files without a repository name stay documents of their own.
 */
export function* repositoryDocuments(source: string, entries: readonly RepositoryEntry[], separator: string, maxChars: number): Generator<ReadItem> {
  const byRepo = new Map<string, RepositoryEntry[]>();
  for (const entry of entries) {
    const list = byRepo.get(entry.repo);
    if (list) list.push(entry);
    else byRepo.set(entry.repo, [entry]);
  }
  for (const repo of [...byRepo.keys()].sort()) {
    const files = byRepo.get(repo)!.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.idWhere < b.idWhere ? -1 : 1));
    if (repo === '') {
      for (const e of files) yield { kind: 'doc', doc: { source, id: e.idWhere, idWhere: e.idWhere, text: e.text } };
      continue;
    }
    let part = 0;
    let text = '';
    for (const e of files) {
      if (text.length > 0 && text.length + separator.length + e.text.length > maxChars) {
        yield { kind: 'doc', doc: { source, id: `${repo}#${part++}`, idWhere: e.idWhere, text } };
        text = '';
      }
      text = text.length ? text + separator + e.text : e.text;
    }
    if (text.length) yield { kind: 'doc', doc: { source, id: `${repo}#${part}`, idWhere: files[files.length - 1].idWhere, text } };
  }
}

/**
 * Reads every file of a StarCoder source and yields one document per repository part, grouping
 * through partition files in a temporary directory (the build does the same as units of work:
 * src/census/group.ts). K from the Parquet metadata's uncompressed content size. A file without
 * a record yields the skip `empty_file`, as the other readers' files do (src/read/index.ts).
 */
export async function* readStarcoderRepositories(
  ctx: ReaderContext,
  files: readonly InputFile[],
  onFileDone?: (file: InputFile) => void,
): AsyncGenerator<ReadItem> {
  const options = ctx.source.repositories!;
  const field = textFieldOf(ctx.source);
  const maxChars = options.maxChars ?? 4 * ctx.source.lengthTokens.max;
  const partitions = Math.min(MAX_PARTITIONS, Math.max(1, Math.ceil((await contentBytes(files, field)) / options.partitionBytes)));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'longmix-starcoder-'));
  try {
    const sinks: WriteStream[] = Array.from({ length: partitions }, (_, p) => createWriteStream(path.join(dir, `${p}.jsonl`)));
    for (const file of files) {
      let records = 0;
      for await (const item of starcoderEntries(ctx, file)) {
        if (item.kind !== 'skipped') records++;
        if (item.kind !== 'entry') {
          yield item;
          continue;
        }
        const sink = sinks[partitionOf(item.entry.repo, partitions)];
        if (!sink.write(JSON.stringify(item.entry) + '\n')) await once(sink, 'drain');
      }
      // A file without a record is counted, as the other readers' files are (src/read/index.ts).
      if (records === 0) yield { kind: 'skipped', skipped: { source: ctx.source.name, reason: 'empty_file', where: file.relPath } };
      onFileDone?.(file);
    }
    await Promise.all(sinks.map((s) => new Promise<void>((resolve, reject) => s.end((error?: Error | null) => (error ? reject(error) : resolve())))));
    for (let p = 0; p < partitions; p++) {
      const entries: RepositoryEntry[] = [];
      const input = createInterface({ input: createReadStream(path.join(dir, `${p}.jsonl`)), crlfDelay: Infinity });
      for await (const line of input) entries.push(JSON.parse(line) as RepositoryEntry);
      yield* repositoryDocuments(ctx.source.name, entries, options.separator, maxChars);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
