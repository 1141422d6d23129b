/**
 * Random access to a hub file by HTTP Range requests, in the shape of hyparquet's `AsyncBuffer`,
 * so a Parquet file's footer and chosen column chunks are read without downloading it whole.
 * Each `slice` is one request (no caching: wrap it in hyparquet's `cachedAsyncBuffer` if the
 * same ranges are read again), retried by the rules of `withRetries`.
 */
import { InputError } from '../../core/errors.ts';
import { hubGet, parseContentRange, TransientError, withRetries } from './http.ts';
import type { HubFile } from './list.ts';
import type { HubOptions } from './options.ts';

/** A read-only byte source (hyparquet's `AsyncBuffer`). */
export interface HubRangeReader {
  /** File size, bytes (from the listing). */
  byteLength: number;
  /**
   * Bytes `[start, end)` of the file; `end` defaults to `byteLength`.
   * @throws InputError (on the returned promise) when the range is not within `[0, byteLength]`,
   *   the server ignores Range or answers another range or total size, access is denied, or
   *   after `maxRetries` failed retries.
   */
  slice(start: number, end?: number): Promise<ArrayBuffer>;
}

async function readRange(file: HubFile, opts: HubOptions, start: number, end: number): Promise<ArrayBuffer> {
  const size = file.sizeBytes;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end > size) {
    throw new InputError(`${file.url}: expected a byte range [start, end) within [0, ${size}], got [${start}, ${end})`, { url: file.url, start, end });
  }
  if (start === end) return new ArrayBuffer(0);
  return withRetries(file.url, opts, async () => {
    const res = await hubGet(file.url, opts, { start, end });
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
