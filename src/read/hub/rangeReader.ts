/**
 * Random access to a hub file by HTTP Range requests, in the shape of hyparquet's `AsyncBuffer`,
 * so a Parquet file's footer and chosen column chunks are read without downloading it whole.
 * Each `slice` is one request (no caching: wrap it in hyparquet's `cachedAsyncBuffer` if the
 * same ranges are read again), retried by the rules of `withRetries`.
 *
 * Identity: every range must come from the version that was listed, or the read fails. Redirects
 * are followed here (at most {@link MAX_REDIRECTS}), not by fetch, so that each hop is checked:
 * - requests to the origin whose ETag the listing gives carry `If-Match: "<listed etag>"` (the
 *   hub for hf:// files; every hop for plain URLs, whose ETag comes from the server itself); a
 *   412 means the file changed;
 * - the hub's redirect of an LFS file to its CDN names the linked file's sha256 in
 *   `X-Linked-Etag`, which must be the listed one; the CDN location is content-addressed and has
 *   ETags of its own (huggingface.js issue 1023), so it gets no If-Match;
 * - an ETag on a response from the listing's origin must equal the listed one.
 * The token goes only to the hub's origin.
 */
import { InputError } from '../../core/errors.ts';
import { etagValue, hubGet, parseContentRange, TransientError, withRetries } from './http.ts';
import type { HubFile } from './list.ts';
import type { HubOptions } from './options.ts';

/** A read-only byte source (hyparquet's `AsyncBuffer`). */
export interface HubRangeReader {
  /** File size, bytes (from the listing). */
  byteLength: number;
  /**
   * Bytes `[start, end)` of the file; `end` defaults to `byteLength`.
   * @throws InputError (on the returned promise) when the range is not within `[0, byteLength]`,
   *   the server ignores Range or answers another range or total size, the file changed since it
   *   was listed (412 to If-Match, another ETag or linked ETag), access is denied, or after
   *   `maxRetries` failed retries.
   */
  slice(start: number, end?: number): Promise<ArrayBuffer>;
}

/** Redirects followed for one range request. */
export const MAX_REDIRECTS = 5;

/** The error for a file that is no longer the version listed. */
function changed(file: HubFile, now: string): InputError {
  return new InputError(
    `${file.url}: changed on the server since it was listed (listed ETag "${file.etag}", ${now}); the bytes read so far belong to the listed version: run the build again to list and read the new one`,
    { url: file.url, etag: file.etag },
  );
}

/** The response to one range request, following redirects with the identity checks of the header. */
async function rangeResponse(file: HubFile, opts: HubOptions, start: number, end: number): Promise<Response> {
  const home = new URL(file.url).origin;
  const plain = file.revision === 'http';
  // A plain URL's ETag is recorded as the server sent it (quoted, maybe weak); a weak one never
  // matches If-Match (RFC 9110 §13.1.1, strong comparison), so it is only compared.
  const listed = etagValue(file.etag);
  const weak = file.etag?.startsWith('W/') ?? false;
  let url = file.url;
  for (let hop = 0; ; hop++) {
    const origin = new URL(url).origin;
    const checked = listed !== null && (plain || origin === home);
    const headers: Record<string, string> = checked && !weak ? { 'if-match': `"${listed}"` } : {};
    let res: Response;
    try {
      res = await hubGet(url, origin === home ? opts : { ...opts, token: undefined }, { start, end }, headers, true);
    } catch (error) {
      if (error instanceof InputError && error.context.status === 412) throw changed(file, `If-Match answered 412 Precondition Failed by ${origin}`);
      throw error;
    }
    const etag = etagValue(res.headers.get('etag'));
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      const linked = etagValue(res.headers.get('x-linked-etag'));
      if (listed !== null && origin === home && linked !== null && linked !== listed) throw changed(file, `the hub now links ETag "${linked}"`);
      if (hop === MAX_REDIRECTS) throw new InputError(`${file.url}: more than ${MAX_REDIRECTS} redirects for one range request`, { url: file.url });
      url = new URL(res.headers.get('location')!, url).href;
      continue;
    }
    if (checked && etag !== null && etag !== listed) {
      await res.body?.cancel().catch(() => undefined);
      throw changed(file, `now "${etag}"`);
    }
    return res;
  }
}

async function readRange(file: HubFile, opts: HubOptions, start: number, end: number): Promise<ArrayBuffer> {
  const size = file.sizeBytes;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end > size) {
    throw new InputError(`${file.url}: expected a byte range [start, end) within [0, ${size}], got [${start}, ${end})`, { url: file.url, start, end });
  }
  if (start === end) return new ArrayBuffer(0);
  return withRetries(file.url, opts, async () => {
    const res = await rangeResponse(file, opts, start, end);
    const header = res.headers.get('content-range');
    const range = parseContentRange(header);
    if (res.status !== 206 || !range || range.start !== start || range.end !== end || range.total !== size) {
      await res.body?.cancel().catch(() => undefined);
      const got = res.status === 206 ? `Content-Range ${JSON.stringify(header)}` : `HTTP ${res.status} (Range ignored)`;
      throw new InputError(
        `${file.url}: asked for bytes [${start}, ${end}) of ${size}, got ${got}; the server does not serve this file by ranges or it changed since it was listed: download it instead`,
        { url: file.url, start, end, status: res.status },
      );
    }
    let body: ArrayBuffer;
    try {
      body = await res.arrayBuffer();
    } catch (error) {
      throw new TransientError(`connection dropped reading bytes [${start}, ${end}): ${(error as Error).message}`, null, { cause: error });
    }
    if (body.byteLength !== end - start) throw new TransientError(`got ${body.byteLength} of the ${end - start} bytes of [${start}, ${end})`);
    return body;
  });
}

/**
 * A Range-reading byte source over `file` (half-open intervals `[start, end)`, bytes), for
 * hyparquet's `parquetMetadataAsync` / `parquetRead`. Makes no request until `slice` is called.
 */
export function hubRangeReader(file: HubFile, opts: HubOptions): HubRangeReader {
  return {
    byteLength: file.sizeBytes,
    slice: (start, end = file.sizeBytes) => readRange(file, opts, start, end),
  };
}
