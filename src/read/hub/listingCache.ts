/**
 * Hub listings kept beside the download cache, so that a build whose files are all cached can run
 * again when the hub cannot be reached (offline, DNS down, the hub failing).
 *
 * Each successful listing of an `hf://` location is written to
 * `<cacheDir>/.listings/<owner>/<name>/<revision, percent-encoded>/<key>.json`, key = first 16 hex
 * of SHA-256 over `endpoint \0 glob`, holding the endpoint, repository, revision, glob, the time
 * it was listed (ISO 8601, UTC) and the files (temporary name + rename). `.listings` cannot be a
 * hub owner (owners start with a letter, digit or `_`), so it never meets a cached file.
 * A listing is used only when the hub cannot be reached (see `listHubFiles`); a branch listed
 * then may have moved since, which the notice on stderr says.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stableStringify } from '../../core/stableJson.ts';
import type { HubFile } from './list.ts';
import type { HubLocation } from './location.ts';

/** A listing as cached. */
export interface CachedListing {
  endpoint: string;
  repo: string;
  revision: string;
  glob: string;
  /** When it was listed, ISO 8601 UTC. */
  listedAt: string;
  files: HubFile[];
}

/** Where the listing of `loc` on `endpoint` is cached under `cacheDir`. */
export function listingCachePath(cacheDir: string, endpoint: string, loc: HubLocation): string {
  const key = createHash('sha256').update(`${endpoint}\0${loc.glob}`).digest('hex').slice(0, 16);
  return path.join(path.resolve(cacheDir), '.listings', ...loc.repo.split('/'), encodeURIComponent(loc.revision), `${key}.json`);
}

/** Caches a successful listing (best effort: a cache that cannot be written never fails a build). */
export async function saveListing(cacheDir: string, endpoint: string, loc: HubLocation, files: HubFile[], listedAt: Date): Promise<void> {
  const target = listingCachePath(cacheDir, endpoint, loc);
  const listing: CachedListing = { endpoint, repo: loc.repo, revision: loc.revision, glob: loc.glob, listedAt: listedAt.toISOString(), files };
  try {
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(`${target}.tmp`, stableStringify(listing));
    await rename(`${target}.tmp`, target);
  } catch {
    // read-only or full cache: the listing is simply not kept
  }
}

/** The cached listing of `loc` on `endpoint`, or null when there is none (or it is unreadable). */
export async function loadListing(cacheDir: string, endpoint: string, loc: HubLocation): Promise<CachedListing | null> {
  try {
    const listing = JSON.parse(await readFile(listingCachePath(cacheDir, endpoint, loc), 'utf8')) as CachedListing;
    const same = listing.endpoint === endpoint && listing.repo === loc.repo && listing.revision === loc.revision && listing.glob === loc.glob;
    return same && Array.isArray(listing.files) ? listing : null;
  } catch {
    return null;
  }
}
