/**
 * Plain HTTP(S) inputs: a source path may be an `https://` URL of one file, or `urls:<list>`, a
 * text file (local, relative to the recipe, or `hf://…`) with one URL per line. This is how the
 * RedPajama datasets are published: their hub repositories hold URL lists
 * (togethercomputer/RedPajama-Data-1T `urls/<subset>.txt`), the files live at data.together.xyz.
 *
 * Each URL is probed with a one-byte range request for its size and ETag, then read like a hub
 * file (downloaded once into the cache, resumable, with the same retries). The hub token is never
 * sent to these hosts.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, InputError } from '../core/errors.ts';
import { hubGet, parseContentRange, withRetries } from './hub/http.ts';
import type { HubFile } from './hub/list.ts';
import { redactCredentials } from './hub/network.ts';
import type { HubOptions } from './hub/options.ts';

/** True for `http://` and `https://` paths. */
export function isHttpUrl(s: string): boolean {
  return /^https?:\/\//.test(s);
}

/**
 * Refuses a URL that carries credentials (`https://user:password@host/…`): fetch cannot send
 * them, and they would land in the manifest and in messages. The message never shows them.
 * @param where - where the URL was given (a recipe source, `<list>:<line>`), for the message.
 * @throws ConfigError naming the URL with its credentials replaced by `***`.
 */
export function assertNoCredentials(url: string, where: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${where}: "${redactCredentials(url)}" is not a valid URL`, { where });
  }
  if (parsed.username || parsed.password) {
    throw new ConfigError(
      `${where}: ${redactCredentials(url)} carries credentials (user:password@), which are not supported and would be recorded in the manifest; for the hub set HF_TOKEN (sent to the hub only), for another host give a URL that needs none`,
      { where, url: redactCredentials(url) },
    );
  }
}

/** Options for a host that is not the hub: the same retries and cache, and no token. */
export function withoutToken(options: HubOptions): HubOptions {
  return { ...options, token: undefined };
}

/**
 * Describes the file at `url` (size from a one-byte range request, ETag if the server sends one).
 * @throws InputError when the server gives no size, or answers 4xx.
 */
export async function probeHttpFile(url: string, options: HubOptions): Promise<HubFile> {
  const opts = withoutToken(options);
  const parsed = new URL(url);
  return withRetries(url, opts, async () => {
    const res = await hubGet(url, opts, { start: 0, end: 1 });
    await res.body?.cancel().catch(() => undefined);
    const total = res.status === 206 ? parseContentRange(res.headers.get('content-range'))?.total : Number(res.headers.get('content-length') ?? NaN);
    if (total === undefined || !Number.isSafeInteger(total))
      throw new InputError(`${url}: the server gives no file size (no Content-Range or Content-Length)`, { url });
    return {
      repo: parsed.host,
      revision: 'http',
      path: decodeURIComponent(parsed.pathname.replace(/^\/+/, '')),
      sizeBytes: total,
      etag: res.headers.get('etag'),
      sha256: null,
      url,
    };
  });
}

/** The URLs listed in a URL-list file's text: one per line; blank lines and `#` comments are skipped. */
export function parseUrlList(text: string, where: string): string[] {
  const urls: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const url = line.trim();
    if (!url || url.startsWith('#')) return;
    if (!isHttpUrl(url))
      throw new InputError(`${where}:${i + 1}: expected an http(s) URL, got ${JSON.stringify(redactCredentials(url).slice(0, 80))}`, { where, line: i + 1 });
    assertNoCredentials(url, `${where}:${i + 1}`);
    urls.push(url);
  });
  return urls;
}

/** Reads a URL list from a local file. */
export async function readUrlList(absPath: string, where: string): Promise<string[]> {
  return parseUrlList(await readFile(absPath, 'utf8'), where);
}
