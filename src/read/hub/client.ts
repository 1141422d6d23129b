/**
 * Hugging Face hub access for the readers: list the files of an `hf://` location, download them
 * into a resumable, verified cache, or read them by HTTP ranges. One module per concern; this
 * file is the entry point the readers import.
 *
 * - Listing: @huggingface/hub `listFiles` (tree API, `Link` pagination) with our retrying fetch.
 * - Downloads and ranges: plain `fetch`, since the library's download helpers offer neither
 *   resume of a partial file nor control over byte ranges and retries.
 * - Retries (network errors, dropped connections, 429 with `Retry-After`, 5xx): exponential
 *   backoff with deterministic jitter, at most `maxRetries`; see `http.ts`.
 * - The access token is sent only as `Authorization: Bearer …` and never appears in an error.
 * - Listings are cached beside the downloads and used when the hub cannot be reached
 *   (`listingCache.ts`); failures that cannot be transient are not retried (`network.ts`).
 */
export { hubOptionsFromEnv, type HubOptions } from './options.ts';
export { hubResolveUrl, listHubFiles, type HubFile } from './list.ts';
export { downloadHubFile } from './download.ts';
export { cachePath, isCached } from './cache.ts';
export { hubRangeReader, type HubRangeReader } from './rangeReader.ts';
