/**
 * Expands a source's paths and globs into a sorted, de-duplicated list of files.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { InputError } from '../core/errors.ts';
import { downloadHubFile, hubOptionsFromEnv, listHubFiles, type HubFile, type HubOptions } from './hub/client.ts';
import { isHubUrl, parseHubUrl } from './hub/location.ts';
import { assertNoCredentials, isHttpUrl, probeHttpFile, readUrlList, withoutToken } from './urls.ts';

/** One input file of a source. */
export interface InputFile {
  /**
   * Path relative to the recipe directory, with `/` separators, or for a hub file its URL
   * `hf://datasets/<owner>/<name>@<revision>/<path>` (what manifests and doc ids show).
   */
  relPath: string;
  /**
   * The file's name inside document ids, independent of where the recipe and the data sit on this
   * machine: for a local file, its path relative to the deepest directory that holds all of the
   * source's local files (`/` separators; a source of one file gets its base name); for a remote
   * file, the same URL as `relPath`.
   */
  idPath: string;
  /** Absolute path on this machine; for a hub file, its cache path once downloaded (else ''). */
  absPath: string;
  /** File size, bytes. */
  sizeBytes: number;
  /** Set for a remote file: on the Hugging Face hub, or at a plain http(s) URL (`remote: 'http'`). */
  hub?: HubFile;
  /** `hub` for hf:// files (the token is sent), `http` for other URLs (it never is). */
  remote?: 'hub' | 'http';
}

/** Options for reading `file` remotely: the hub token only goes to the hub. */
export function remoteOptions(file: InputFile, options: HubOptions = hubOptionsFromEnv()): HubOptions {
  return file.remote === 'http' ? withoutToken(options) : options;
}

/** The hub URL, with its revision, that names a hub file in manifests and document ids. */
export function hubFileUrl(file: HubFile): string {
  return `hf://datasets/${file.repo}@${encodeURIComponent(file.revision)}/${file.path}`;
}

/**
 * The deepest directory that contains every one of `absPaths` (absolute file paths); '' for none.
 * Document ids of local files are relative to it, so moving the recipe, or the recipe and its data
 * together, keeps every id and therefore the seeded order and the shards' bytes.
 */
export function commonDirectory(absPaths: readonly string[]): string {
  if (absPaths.length === 0) return '';
  let parts = path.dirname(absPaths[0]).split(path.sep);
  for (const p of absPaths.slice(1)) {
    const other = path.dirname(p).split(path.sep);
    let n = 0;
    while (n < parts.length && n < other.length && parts[n] === other[n]) n++;
    parts = parts.slice(0, n);
  }
  return parts.join(path.sep) || path.sep;
}

/** Lists the hub files a `hf://` pattern names. */
async function expandHub(pattern: string, options: HubOptions): Promise<InputFile[]> {
  const files = await listHubFiles(parseHubUrl(pattern), options);
  return files.map((hub) => ({ relPath: hubFileUrl(hub), idPath: hubFileUrl(hub), absPath: '', sizeBytes: hub.sizeBytes, hub, remote: 'hub' as const }));
}

/**
 * Makes a hub file readable from the local file system (downloads it into the cache once,
 * resuming a partial download); a local file is returned as is.
 */
export async function ensureLocal(file: InputFile, options: HubOptions = hubOptionsFromEnv()): Promise<InputFile> {
  if (!file.hub || file.absPath) return file;
  return { ...file, absPath: await downloadHubFile(file.hub, remoteOptions(file, options)) };
}

async function httpFiles(urls: readonly string[], options: HubOptions): Promise<InputFile[]> {
  const files: InputFile[] = [];
  for (const url of urls) {
    const hub = await probeHttpFile(url, options);
    files.push({ relPath: url, idPath: url, absPath: '', sizeBytes: hub.sizeBytes, hub, remote: 'http' });
  }
  return files;
}

/** The URLs of a `urls:<list>` entry (the list itself local, relative to `baseDir`, or on the hub). */
async function urlsOf(list: string, baseDir: string, options: HubOptions): Promise<string[]> {
  if (isHubUrl(list)) {
    const [file] = await expandHub(list, options);
    const local = await ensureLocal(file, options);
    return readUrlList(local.absPath, list);
  }
  return readUrlList(path.resolve(baseDir, list), list);
}

/**
 * Resolves `patterns` (files or globs relative to `baseDir`, `hf://datasets/...` URLs listed on
 * the hub, `https://` URLs, or `urls:<list>` URL lists) to files: local ones sorted by `relPath`,
 * then hub ones, then plain URLs, each sorted; `maxFiles` keeps the first N of that order (a
 * deterministic sample).
 * @throws InputError when a plain path does not exist or a glob matches no file (local or hub);
 *   ConfigError on a malformed hub URL or a URL with credentials (`user:password@`).
 */
export async function expandPaths(
  source: string,
  patterns: readonly string[],
  baseDir: string,
  hubOptions?: HubOptions,
  maxFiles?: number,
): Promise<InputFile[]> {
  const rel = new Set<string>();
  const hubFiles = new Map<string, InputFile>();
  const urls = new Set<string>();
  for (const pattern of patterns) {
    if (pattern.startsWith('urls:')) {
      for (const url of await urlsOf(pattern.slice(5), baseDir, hubOptions ?? hubOptionsFromEnv())) urls.add(url);
    } else if (isHttpUrl(pattern)) {
      assertNoCredentials(pattern, `Source "${source}"`);
      urls.add(pattern);
    } else if (isHubUrl(pattern)) {
      for (const file of await expandHub(pattern, hubOptions ?? hubOptionsFromEnv())) hubFiles.set(file.relPath, file);
    } else if (isDynamicPattern(pattern)) {
      const matches = await glob(pattern, { cwd: baseDir, onlyFiles: true, expandDirectories: false });
      if (matches.length === 0) throw new InputError(`Source "${source}": pattern "${pattern}" matches no file under ${baseDir}`, { source, pattern });
      for (const m of matches) rel.add(path.relative(baseDir, path.resolve(baseDir, m)).split(path.sep).join('/'));
    } else {
      // Absolute paths are recorded relative to the recipe too, so no machine path reaches the manifest.
      rel.add(path.relative(baseDir, path.resolve(baseDir, pattern)).split(path.sep).join('/'));
    }
  }
  const files: InputFile[] = [];
  const idBase = commonDirectory([...rel].map((r) => path.resolve(baseDir, r)));
  for (const relPath of [...rel].sort()) {
    const absPath = path.resolve(baseDir, relPath);
    let sizeBytes: number;
    try {
      const s = await stat(absPath);
      if (!s.isFile()) throw new Error('not a regular file');
      sizeBytes = s.size;
    } catch (error) {
      throw new InputError(
        `Source "${source}": cannot read input file ${relPath} (${absPath}): ${(error as Error).message}`,
        { source, file: relPath },
        { cause: error },
      );
    }
    files.push({ relPath, idPath: path.relative(idBase, absPath).split(path.sep).join('/'), absPath, sizeBytes });
  }
  const byPath = (a: InputFile, b: InputFile) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0);
  const all = [...files, ...[...hubFiles.values()].sort(byPath)];
  // URLs are probed (one request each) only up to the files that will be read.
  const sortedUrls = [...urls].sort().slice(0, maxFiles === undefined ? undefined : Math.max(0, maxFiles - all.length));
  all.push(...(await httpFiles(sortedUrls, hubOptions ?? hubOptionsFromEnv())));
  return maxFiles === undefined ? all : all.slice(0, maxFiles);
}
