/**
 * The local download cache: `<cacheDir>/<owner>/<name>/<revision>/<path>`, a `.part` file while
 * downloading, and a sidecar `<path>.meta.json` written after the file is complete.
 *
 * Commit order (crash-safe): remove the old sidecar, rename `.part` over the file, write the new
 * sidecar (temporary name + rename). A file without a matching sidecar is never taken as cached.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../../core/errors.ts';
import { stableStringify } from '../../core/stableJson.ts';
import type { HubFile } from './list.ts';

/** What the sidecar records about a complete cached file: the listing's description of it. */
export type CacheMeta = Omit<HubFile, 'url'>;

function checkSegments(file: HubFile, segments: string[]): void {
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0'))) {
    throw new InputError(`${file.url}: refusing to cache "${file.repo}/${file.path}": empty, ".", ".." or backslash path segment`, { url: file.url });
  }
}

/**
 * Local path of `file` in the cache. The revision is one directory, percent-encoded
 * (`refs/convert/parquet` → `refs%2Fconvert%2Fparquet`; `main` unchanged).
 * @throws InputError when the repository id or path has an empty, `.`, `..` or backslash segment.
 */
export function cachePath(cacheDir: string, file: HubFile): string {
  const repo = file.repo.split('/');
  const inRepo = file.path.split('/');
  checkSegments(file, [...repo, ...inRepo]);
  return path.join(path.resolve(cacheDir), ...repo, encodeURIComponent(file.revision), ...inRepo);
}

/** Path of the sidecar of the cached file at `target`. */
export function metaPath(target: string): string {
  return `${target}.meta.json`;
}

/**
 * True when `target` exists with `file.sizeBytes` bytes and its sidecar records the same size
 * and, when the listing gives them, the same sha256 and etag. Reads no file content.
 */
export async function isCached(target: string, file: HubFile): Promise<boolean> {
  try {
    const [info, text] = await Promise.all([stat(target), readFile(metaPath(target), 'utf8')]);
    const meta = JSON.parse(text) as Partial<CacheMeta>;
    return (
      info.isFile() &&
      info.size === file.sizeBytes &&
      meta.sizeBytes === file.sizeBytes &&
      (file.sha256 === null || meta.sha256 === file.sha256) &&
      (file.etag === null || meta.etag === file.etag)
    );
  } catch {
    return false;
  }
}

/** Moves the complete `part` to `target` and records its sidecar, in the crash-safe order above. */
export async function commitToCache(part: string, target: string, file: HubFile): Promise<void> {
  const meta: CacheMeta = { repo: file.repo, revision: file.revision, path: file.path, sizeBytes: file.sizeBytes, etag: file.etag, sha256: file.sha256 };
  await rm(metaPath(target), { force: true });
  await rename(part, target);
  const temporary = `${metaPath(target)}.tmp`;
  await writeFile(temporary, stableStringify(meta));
  await rename(temporary, metaPath(target));
}

/**
 * Hex digest of the file at `filePath`: `sha256`, or `git-sha1` (the git blob id,
 * sha1 over `blob <size>\0` + content). Streams the file.
 */
export async function hashFile(filePath: string, kind: 'sha256' | 'git-sha1'): Promise<string> {
  const hash = createHash(kind === 'sha256' ? 'sha256' : 'sha1');
  if (kind === 'git-sha1') hash.update(`blob ${(await stat(filePath)).size}\0`);
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
