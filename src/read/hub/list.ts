/**
 * Lists the files of a hub dataset that match an `hf://` location's glob.
 *
 * Uses `listFiles` of @huggingface/hub (`GET <endpoint>/api/datasets/<repo>/tree/<revision>/<folder>
 * ?recursive=true&expand=false`, following the `Link: <…>; rel="next"` pages), with our own fetch
 * so every page gets the same retry rules as downloads. Only the glob's static folder is listed.
 */
import { listFiles, type ListFileEntry } from '@huggingface/hub';
import path from 'node:path';
import picomatch from 'picomatch';
import { ConfigError, InputError, PipelineError } from '../../core/errors.ts';
import { hubGet, scrubToken, TransientError, withRetries } from './http.ts';
import { formatHubUrl, type HubLocation } from './location.ts';
import { listingCachePath, loadListing, saveListing } from './listingCache.ts';
import type { HubOptions } from './options.ts';

/** One file of a hub repository at a revision. */
export interface HubFile {
  /** Repository id `"<owner>/<name>"`. */
  repo: string;
  /** Revision as given in the location (a branch name is not pinned to a commit). */
  revision: string;
  /** Path inside the repository, `/`-separated. */
  path: string;
  /** File size, bytes (the LFS object's size for LFS files). */
  sizeBytes: number;
  /** The hub's ETag for the file: the LFS sha256 for LFS files, else the git blob id (sha1); null when not listed. */
  etag: string | null;
  /** SHA-256 (hex) of the content when the listing gives it (LFS files), else null. */
  sha256: string | null;
  /** `<endpoint>/datasets/<repo>/resolve/<revision>/<path>`, revision and path segments percent-encoded. */
  url: string;
}

/** Pages of one listing before it is taken for a server loop (1,000 entries a page on the hub). */
const MAX_PAGES = 10_000;

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

/** The resolve URL of `filePath` in dataset `repo` at `revision` (see {@link HubFile.url}). */
export function hubResolveUrl(endpoint: string, repo: string, revision: string, filePath: string): string {
  return `${endpoint}/datasets/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(filePath)}`;
}

/** A fetch for `listFiles`: same-origin pages only, each page read whole inside the retry loop. */
function listingFetch(opts: HubOptions, hfUrl: string): typeof fetch {
  const origin = new URL(opts.endpoint).origin;
  const seen = new Set<string>();
  const pageFetch = async (input: string | URL | Request): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    if (new URL(url).origin !== origin) {
      throw new InputError(`${hfUrl}: the listing's next page ${url} is outside ${origin}; not following it`, { url: hfUrl });
    }
    if (seen.has(url) || seen.size >= MAX_PAGES) {
      throw new InputError(`${hfUrl}: the listing did not end after ${seen.size} pages (next page ${url})`, { url: hfUrl });
    }
    seen.add(url);
    return withRetries(url, opts, async () => {
      const res = await hubGet(url, opts, undefined, { accept: 'application/json' });
      try {
        const body = await res.arrayBuffer();
        return new Response(body, { status: res.status, headers: res.headers });
      } catch (error) {
        throw new TransientError(`connection dropped while reading the listing: ${(error as Error).message}`, null, { cause: error });
      }
    });
  };
  return pageFetch as typeof fetch;
}

function toHubFile(loc: HubLocation, opts: HubOptions, entry: ListFileEntry, hfUrl: string): HubFile {
  const sizeBytes = entry.lfs?.size ?? entry.size;
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) {
    throw new InputError(`${hfUrl}: the listing gives ${entry.path} a size of ${sizeBytes}, expected an integer ≥ 0`, { url: hfUrl, path: entry.path });
  }
  return {
    repo: loc.repo,
    revision: loc.revision,
    path: entry.path,
    sizeBytes,
    etag: entry.lfs?.oid ?? entry.oid ?? null,
    sha256: entry.lfs?.oid ?? null,
    url: hubResolveUrl(opts.endpoint, loc.repo, loc.revision, entry.path),
  };
}

let offlineNoticeShown = false;

/** Shows the offline notice again (for tests: it is printed once per process). */
export function resetOfflineNotice(): void {
  offlineNoticeShown = false;
}

/**
 * Lists every file of `loc.repo` at `loc.revision` whose path matches `loc.glob` (picomatch,
 * default options: `*` stays within a segment and skips dotfiles), sorted by path (code units).
 * A successful listing is cached (src/read/hub/listingCache.ts). When the hub cannot be reached
 * (network errors, or 429/5xx, after the retries), the cached listing is used instead and stderr
 * says so, once per process.
 * @throws InputError naming the `hf://` URL when the glob matches no file or the dataset,
 *   revision or folder does not exist (404); InputError on access denied (401/403), or when the
 *   hub cannot be reached and no listing is cached; ConfigError when the token does not start with `hf_`.
 */
export async function listHubFiles(loc: HubLocation, opts: HubOptions): Promise<HubFile[]> {
  try {
    const files = await listLive(loc, opts);
    await saveListing(opts.cacheDir, opts.endpoint, loc, files, new Date());
    return files;
  } catch (error) {
    if (!(error instanceof InputError) || error.context.attempts === undefined) throw error;
    const cached = await loadListing(opts.cacheDir, opts.endpoint, loc);
    if (!cached) {
      const where = listingCachePath(opts.cacheDir, opts.endpoint, loc);
      throw new InputError(`${error.message}; no cached listing to fall back on (${where})`, error.context, { cause: error });
    }
    if (!offlineNoticeShown) {
      offlineNoticeShown = true;
      process.stderr.write(
        `longmix: the hub at ${opts.endpoint} cannot be reached (${error.message}); using cached listings, first ${formatHubUrl(loc)} as listed at ${cached.listedAt} (a branch may have moved since)\n`,
      );
    }
    return cached.files;
  }
}

async function listLive(loc: HubLocation, opts: HubOptions): Promise<HubFile[]> {
  const hfUrl = formatHubUrl(loc);
  if (opts.token && !opts.token.startsWith('hf_')) {
    throw new ConfigError(`Expected HF_TOKEN to be a Hugging Face access token starting with "hf_", got one of ${opts.token.length} characters that does not`);
  }
  const scan = picomatch.scan(loc.glob);
  const folder = scan.isGlob ? scan.base : path.posix.dirname(loc.glob).replace(/^\.$/, '');
  const isMatch = picomatch(loc.glob);
  const files: HubFile[] = [];
  try {
    for await (const entry of listFiles({
      repo: { type: 'dataset', name: loc.repo },
      revision: encodeURIComponent(loc.revision),
      path: folder === '' ? undefined : encodePath(folder),
      recursive: true,
      hubUrl: opts.endpoint,
      fetch: listingFetch(opts, hfUrl),
      ...(opts.token ? { accessToken: opts.token } : {}),
    })) {
      if (entry.type === 'file' && isMatch(entry.path)) files.push(toHubFile(loc, opts, entry, hfUrl));
    }
  } catch (error) {
    if (error instanceof InputError && error.context.status === 404) {
      const message = `${hfUrl}: not found (HTTP 404 from ${String(error.context.url)}); check the dataset "${loc.repo}", the revision "${loc.revision}" and the folder "${folder}"`;
      throw new InputError(message, { url: hfUrl, status: 404, notFound: true }, { cause: error });
    }
    if (error instanceof PipelineError) throw error;
    throw new InputError(scrubToken(`${hfUrl}: cannot list files: ${(error as Error).message}`, opts.token), { url: hfUrl }, { cause: error });
  }
  if (files.length === 0) {
    throw new InputError(`${hfUrl}: the glob "${loc.glob}" matches no file of dataset ${loc.repo} at revision "${loc.revision}"`, {
      url: hfUrl,
      notFound: true,
    });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
