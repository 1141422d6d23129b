/**
 * The group stage (part of the census: reading StarCoder): the shuffle half of StarCoder's repository grouping (src/read/datasets/starcoder.ts),
 * as units of work. One unit per StarCoder file of a source with `repositories`: it reads the
 * file's rows and writes them, as JSON lines of repository entries, into one entries file sorted
 * by partition (`partitionOf(repo, K)`), with the byte offset where each partition starts. The
 * census then has one unit per partition, which reads that partition's range from every group
 * unit's entries file (in unit order) and groups it (src/census/unit.ts `runPartitionUnit`).
 *
 * K is fixed by the listing (`starcoderPartitions`), so units and outputs never depend on how many
 * tasks ran them. Memory: one Parquet page per column plus stream buffers (entries go to K
 * temporary files, then are concatenated in partition order). Disk: the file's text, twice while
 * the unit runs.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Recipe, SourceConfig } from '../config/schema.ts';
import { CorruptInputError } from '../core/errors.ts';
import type { InputFile } from '../read/files.ts';
import { identityOf, openInput, type FileIdentity } from '../read/identity.ts';
import { readerContext } from '../read/index.ts';
import { partitionOf, starcoderEntries } from '../read/datasets/starcoder.ts';
import { emptyCounts, type CensusCounts } from './store.ts';
import { countItem } from './unit.ts';

/** What a group unit reads. */
export interface GroupUnitInput {
  recipe: Pick<Recipe, 'onBadRecord' | 'onBadFile'>;
  source: SourceConfig;
  file: InputFile;
  /** Partitions of the source (K). */
  partitions: number;
  baseDir: string;
}

/** What a group unit produced besides its entries file. */
export interface GroupUnitResult {
  /** Byte offset of each partition's first entry in the entries file, and its size last (K + 1 numbers). */
  offsets: number[];
  /** Entries written (files of repositories). */
  entries: number;
  /** The file's identity, from the bytes read. */
  input: FileIdentity;
  /** Bad records, skipped input and (under `onBadFile: skip`) the file left out, counted; no document is read here. */
  counts: CensusCounts;
}

async function closeAll(sinks: readonly WriteStream[]): Promise<void> {
  await Promise.all(sinks.map((s) => new Promise<void>((resolve, reject) => s.end((error?: Error | null) => (error ? reject(error) : resolve())))));
}

/**
 * Runs one group unit, writing `entriesFile` (see the file header).
 * @throws InputError on an unreadable file or one that changed while read; CorruptInputError on a
 *   broken file under `onBadFile: fail`.
 */
export async function runGroupUnit(input: GroupUnitInput, entriesFile: string, onRawBytes?: (bytes: number) => void): Promise<GroupUnitResult> {
  const { source, partitions } = input;
  const opened = await openInput(source, input.file);
  const parts = `${entriesFile}.parts`;
  await rm(parts, { recursive: true, force: true });
  await mkdir(parts, { recursive: true });
  const partFile = (k: number) => path.join(parts, `${k}.jsonl`);
  const sinks = Array.from({ length: partitions }, (_, k) => createWriteStream(partFile(k)));
  const sizes = new Array<number>(partitions).fill(0);
  let counts = emptyCounts(source.name, 0);
  let entries = 0;
  let records = 0;
  let corrupt = false;
  try {
    try {
      for await (const item of starcoderEntries(readerContext(source, input.baseDir, onRawBytes), opened.file)) {
        if (item.kind !== 'skipped') records++;
        if (item.kind !== 'entry') {
          countItem(item, counts, input.recipe.onBadRecord);
          continue;
        }
        const k = partitionOf(item.entry.repo, partitions);
        const line = JSON.stringify(item.entry) + '\n';
        sizes[k] += Buffer.byteLength(line);
        entries++;
        if (!sinks[k].write(line)) await once(sinks[k], 'drain');
      }
      if (records === 0) counts.skipped.empty_file++;
    } catch (error) {
      if (!(error instanceof CorruptInputError) || input.recipe.onBadFile !== 'skip') throw error;
      // onBadFile: skip leaves the whole file out (what it yielded before the break may be damaged too).
      corrupt = true;
      counts = emptyCounts(source.name, 0);
      counts.corruptFiles.push({ path: input.file.relPath, byteOffset: error.byteOffset, recordsRead: error.recordsRead, error: error.message });
      entries = 0;
      sizes.fill(0);
    }
    await closeAll(sinks);
    const out = createWriteStream(entriesFile);
    for (let k = 0; k < partitions && !corrupt; k++) await pipeline(createReadStream(partFile(k)), out, { end: false });
    await closeAll([out]);
  } finally {
    await rm(parts, { recursive: true, force: true });
  }
  const offsets = [0];
  for (const size of sizes) offsets.push(offsets[offsets.length - 1] + size);
  return { offsets, entries, input: await identityOf(source.name, opened), counts };
}
