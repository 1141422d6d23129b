/**
 * Resumable, verified download of one hub file into the cache.
 *
 * Plain `fetch`, not the @huggingface/hub download helpers: those give neither resume of a
 * partial file by a Range request nor control over retries and byte ranges.
 *
 * Each attempt continues `<target>.part` from its current size with `Range: bytes=<size>-`. A 206
 * must carry `Content-Range: bytes <size>-<last>/<total>` matching the listing, else the part is
 * deleted and the next attempt starts at byte 0; a 200 (Range ignored) rewrites the part from 0.
 * Chunks are written one at a time, so after a dropped connection the part holds a prefix of
 * the file. The finished part is checked against the listing (sha256 for LFS files, the git
 * blob id otherwise); a mismatch (e.g. a stale part of an older version) deletes the part and
 * retries from 0. Not safe against two processes downloading the same file at once.
 */
import { mkdir, open, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../../core/errors.ts';
import { cachePath, commitToCache, hashFile, isCached } from './cache.ts';
import { hubGet, parseContentRange, TransientError, withRetries } from './http.ts';
import type { HubFile } from './list.ts';
import type { HubOptions } from './options.ts';

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch {
    return null;
  }
}

/** Writes the response body to `part` from byte `from`, one chunk at a time, at most `limit` bytes in all. */
async function writeBody(res: Response, part: string, from: number, limit: number): Promise<void> {
  const handle = await open(part, from === 0 ? 'w' : 'a');
  let size = from;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > limit) break;
      await handle.write(chunk);
    }
  } catch (error) {
    throw new TransientError(`connection dropped at byte ${size}: ${(error as Error).message}`, null, { cause: error });
  } finally {
    await handle.close();
  }
  if (size > limit) {
    await res.body?.cancel().catch(() => undefined);
    await rm(part, { force: true });
    throw new TransientError(`the server sent more than the listed ${limit} bytes; downloading again from byte 0`);
  }
  if (size < limit) throw new TransientError(`the body ended at byte ${size} of ${limit}`);
}

/** One request continuing `part` from `offset`; see the header for the rules. */
async function receive(file: HubFile, part: string, offset: number, opts: HubOptions): Promise<void> {
  const res = await hubGet(file.url, opts, offset > 0 ? { start: offset } : undefined);
  if (res.status === 206) {
    const header = res.headers.get('content-range');
    const range = parseContentRange(header);
    if (!range || range.start !== offset || range.end !== file.sizeBytes || range.total !== file.sizeBytes) {
      await res.body?.cancel().catch(() => undefined);
      await rm(part, { force: true });
      throw new TransientError(`asked for bytes [${offset}, ${file.sizeBytes}), got Content-Range ${JSON.stringify(header)}; downloading again from byte 0`);
    }
    return writeBody(res, part, offset, file.sizeBytes);
  }
  if (res.status === 200) return writeBody(res, part, 0, file.sizeBytes);
  await res.body?.cancel().catch(() => undefined);
  throw new InputError(`${file.url}: unexpected HTTP ${res.status} to a download request`, { url: file.url, status: res.status });
}

/** Checks a complete part against the listing's sha256 or git blob id. */
async function verify(file: HubFile, part: string): Promise<void> {
  const expected = file.sha256 ?? (file.etag !== null && /^[0-9a-f]{40}$/.test(file.etag) ? file.etag : null);
  if (expected === null) return;
  const kind = file.sha256 !== null ? 'sha256' : 'git-sha1';
  const actual = await hashFile(part, kind);
  if (actual !== expected) {
    await rm(part, { force: true });
    throw new TransientError(`content ${kind} ${actual} differs from the listed ${expected}; downloading again from byte 0`);
  }
}

/**
 * Downloads `file` into the cache, or finds it there.
 * @returns the local path `<cacheDir>/<owner>/<name>/<revision, percent-encoded>/<path>`; when the
 *   file is already complete there (size and sidecar match, see `isCached`) no request is made.
 * @throws InputError on access denied (401/403; the message explains gated datasets), 404, an
 *   unexpected status, or after `maxRetries` failed retries (network errors, dropped
 *   connections, 429, 5xx, content mismatch). The token never appears in a message.
 */
export async function downloadHubFile(file: HubFile, opts: HubOptions): Promise<string> {
  const target = cachePath(opts.cacheDir, file);
  if (await isCached(target, file)) return target;
  await mkdir(path.dirname(target), { recursive: true });
  const part = `${target}.part`;
  await withRetries(file.url, opts, async () => {
    let offset = await sizeOf(part);
    if (offset !== null && offset > file.sizeBytes) {
      await rm(part, { force: true });
      offset = null;
    }
    if (offset === null && file.sizeBytes === 0) await writeFile(part, '');
    else if (offset === null || offset < file.sizeBytes) await receive(file, part, offset ?? 0, opts);
    await verify(file, part);
  });
  await commitToCache(part, target, file);
  return target;
}
