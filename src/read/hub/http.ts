/**
 * One HTTP request to the hub with plain `fetch`, and the retry loop around it.
 *
 * Retry rule: network errors, dropped connections, short bodies, HTTP 429 and 5xx are retried up
 * to `maxRetries` times, except network failures that cannot be transient (src/read/hub/network.ts:
 * a DNS failure is retried once; connection refused on localhost, a certificate error, a request
 * fetch cannot build are not retried). Retry k (0-based) waits `Retry-After` seconds when a 429/5xx answer has
 * that header in its delta-seconds form (capped at 600 s), else `retryBaseMs * 2^k` plus a jitter
 * in [0, 50%) of that, derived from the URL and k (SHA-256, no `Math.random`), so runs are
 * reproducible while different files do not retry in lockstep. 401/403/404 and other statuses
 * fail at once. The token is sent only as a header and scrubbed from every message built here.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, InputError } from '../../core/errors.ts';
import { derivedKey } from '../../core/rng.ts';
import { classifyFetchError, redactCredentials } from './network.ts';
import type { HubOptions } from './options.ts';

/** A failure worth retrying; never escapes {@link withRetries}, which turns it into an `InputError`. */
export class TransientError extends Error {
  /**
   * @param message - what went wrong, without the URL (the caller adds it).
   * @param retryAfterMs - server-requested wait, milliseconds, or `null` to use the backoff.
   */
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
    options?: { cause?: unknown },
    /** Retries this failure deserves at most (see src/read/hub/network.ts); Infinity = up to `maxRetries`. */
    readonly retryLimit = Infinity,
    /** Why it is retried less than `maxRetries`, for the final message. */
    readonly rule = '',
    /** True when the server could not be reached (a network error, not an HTTP status). */
    readonly unreachable = false,
  ) {
    super(message, options);
    this.name = 'TransientError';
  }
}

const MAX_RETRY_AFTER_MS = 600_000;

/** Replaces every occurrence of `token` in `text` by `hf_***` (no-op without a token). */
export function scrubToken(text: string, token: string | undefined): string {
  return token ? text.split(token).join('hf_***') : text;
}

/**
 * The message for HTTP 401/403 from `url`. With a token set it says the token was refused.
 */
export function accessDeniedMessage(url: string, status: number, tokenSet: boolean): string {
  const refused = tokenSet ? ' The token that was set (HF_TOKEN) was refused.' : '';
  return `${url}: access denied (HTTP ${status}).${refused} This dataset may be gated: accept its terms on the hub page and set HF_TOKEN to a token with read access`;
}

/**
 * Backoff before retry `attempt` (0-based), milliseconds: `baseMs * 2^attempt * (1 + j/2)` with
 * j in [0, 1) from SHA-256 of (`attempt`, `label`).
 */
export function backoffMs(label: string, attempt: number, baseMs: number): number {
  const jitter = Number(derivedKey(attempt, 'hub-retry', label) % 1024n) / 1024;
  return Math.round(baseMs * 2 ** attempt * (1 + jitter / 2));
}

function retryAfterMs(header: string | null): number | null {
  if (header === null || !/^\s*\d+\s*$/.test(header)) return null;
  return Math.min(Number(header) * 1000, MAX_RETRY_AFTER_MS);
}

/** A byte range `[start, end)`; `end` undefined means to the end of the file. */
export interface ByteRange {
  /** First byte, 0-based, inclusive. */
  start: number;
  /** End byte, exclusive; undefined for "to the end". */
  end?: number;
}

/** An ETag header's opaque value: without a weak prefix `W/` and without quotes; null for none. */
export function etagValue(header: string | null): string | null {
  if (header === null) return null;
  return header
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
}

/**
 * One GET of `url` with `Accept-Encoding: identity` so byte counts and ranges are those of the
 * file. Redirects are followed by fetch (which drops `Authorization` across origins), or, with
 * `manualRedirect`, returned to the caller.
 * @returns the response when its status is 2xx, or 3xx with a Location under `manualRedirect` (body unread).
 * @throws TransientError on a network error, 429 or 5xx; InputError on 401/403 (access denied,
 *   see {@link accessDeniedMessage}), 404 (names `url`) and any other status (412 included).
 */
export async function hubGet(
  url: string,
  opts: HubOptions,
  range?: ByteRange,
  headers: Record<string, string> = {},
  manualRedirect = false,
): Promise<Response> {
  const all: Record<string, string> = { ...headers, 'accept-encoding': 'identity' };
  if (opts.token) all.authorization = `Bearer ${opts.token}`;
  if (range) all.range = `bytes=${range.start}-${range.end === undefined ? '' : range.end - 1}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: all, redirect: manualRedirect ? 'manual' : 'follow' });
  } catch (error) {
    const failure = classifyFetchError(error, url);
    const message = redactCredentials(scrubToken(failure.message, opts.token));
    if (!failure.network) throw new InputError(`${redactCredentials(url)}: ${message}`, { url: redactCredentials(url) });
    throw new TransientError(message, null, { cause: error }, failure.retries, failure.rule, true);
  }
  if (res.ok || (manualRedirect && res.status >= 300 && res.status < 400 && res.headers.has('location'))) return res;
  await res.body?.cancel().catch(() => undefined);
  const { status } = res;
  if (status === 429 || status >= 500) throw new TransientError(`HTTP ${status}`, retryAfterMs(res.headers.get('retry-after')));
  if (status === 401 || status === 403) throw new InputError(accessDeniedMessage(url, status, Boolean(opts.token)), { url, status });
  if (status === 404) throw new InputError(`${url}: not found (HTTP 404); check the dataset name, the revision and the path`, { url, status });
  throw new InputError(`${url}: unexpected HTTP ${status} ${res.statusText}`, { url, status });
}

/**
 * Runs `attempt(k)` for k = 0, 1, … until it resolves, retrying on {@link TransientError} with the
 * backoff above; other errors propagate at once.
 * @param url - named in the final error.
 * @throws InputError `<url>: failed after <n> attempts: <last reason>` when every attempt failed;
 *   ConfigError when `opts.maxRetries` is not ≥ 0 (no attempt made).
 */
export async function withRetries<T>(url: string, opts: HubOptions, attempt: (k: number) => Promise<T>): Promise<T> {
  for (let k = 0; k <= opts.maxRetries; k++) {
    try {
      return await attempt(k);
    } catch (error) {
      if (!(error instanceof TransientError)) throw error;
      if (k >= Math.min(opts.maxRetries, error.retryLimit)) {
        const rule = error.rule && error.retryLimit < opts.maxRetries ? `; ${error.rule}` : '';
        const message = `${redactCredentials(url)}: failed after ${k + 1} attempts (maxRetries ${opts.maxRetries}): ${error.message}${rule}`;
        throw new InputError(
          scrubToken(message, opts.token),
          { url: redactCredentials(url), attempts: k + 1, unreachable: error.unreachable },
          { cause: error },
        );
      }
      await sleep(error.retryAfterMs ?? backoffMs(url, k, opts.retryBaseMs));
    }
  }
  throw new ConfigError(`Expected hub maxRetries to be an integer ≥ 0, got ${opts.maxRetries}`, { url, maxRetries: opts.maxRetries });
}

/**
 * Parses `Content-Range: bytes <first>-<last>/<total>`.
 * @returns `[start, end)` and the total, bytes; `null` when absent or of another form.
 */
export function parseContentRange(header: string | null): { start: number; end: number; total: number } | null {
  const m = header === null ? null : /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim());
  return m ? { start: Number(m[1]), end: Number(m[2]) + 1, total: Number(m[3]) } : null;
}
