/**
 * The identity of an input file, from the bytes read: a local file is hashed (SHA-256) after it is
 * read, and its `stat` (device, inode, size, mtime, ctime) taken before reading must equal the one
 * after, so a file replaced or modified while it was read fails instead of being recorded with a
 * hash of other bytes than those read; a file listed when the build started (with its size and
 * mtime) must still be that file. A hub file downloaded into the cache is named by the sha256 the
 * hub lists (checked when downloaded); a Parquet file read from the hub by ranges by its listed
 * identity (each range request carries If-Match, src/read/hub/rangeReader.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { SourceConfig } from '../config/schema.ts';
import { InputError } from '../core/errors.ts';
import { ensureLocal, type InputFile } from './files.ts';

/** What identifies an input file: its path as inputs name it, size, and content hash or ETag. */
export interface FileIdentity {
  source: string;
  /** `relPath` of the file (relative to the recipe, or its hub URL). */
  path: string;
  sizeBytes: number;
  /** SHA-256 of the bytes read (local files), or the hub's listed LFS sha256; null when neither exists. */
  sha256: string | null;
  /** The hub's or server's ETag; null for local files. */
  etag: string | null;
}

const sameFile = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/** SHA-256 (hex) of a local file, streamed. */
async function sha256Of(absPath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(absPath, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A file's local path and its stat before reading (null for a hub file read by ranges). */
export interface Opened {
  file: InputFile;
  before: Stats | null;
}

/**
 * Makes a file readable (a hub file other than Parquet is downloaded into the cache first) and
 * takes its stat before it is read.
 * @throws InputError naming the file when it cannot be read.
 */
export async function openInput(source: SourceConfig, file: InputFile): Promise<Opened> {
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
export async function identityOf(source: string, opened: Opened): Promise<FileIdentity> {
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
