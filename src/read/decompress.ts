/**
 * Byte streams of a file, decompressed by file extension: `.gz` (zlib, every gzip member),
 * `.zst` (fzstd, pure JS), anything else as is.
 */
import { createReadStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

/** A Transform that decompresses a Zstandard stream (all frames) with fzstd. */
function zstdTransform(): Transform {
  let decoder: Decompress;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        decoder.push(chunk);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        decoder.push(new Uint8Array(0), true);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  decoder = new Decompress((data) => {
    transform.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  return transform;
}

/**
 * Opens `absPath` and returns its decompressed bytes as a stream.
 * @param onRawBytes - called with the count of compressed bytes read so far (for progress).
 */
export function openDecompressed(absPath: string, onRawBytes?: (bytesRead: number) => void): Readable {
  const file = createReadStream(absPath, { highWaterMark: 1 << 20 });
  // Count bytes in a pass-through stage, not with a second 'data' listener on a piped stream.
  let bytesRead = 0;
  const raw = chain(
    file,
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytesRead += chunk.length;
        onRawBytes?.(bytesRead);
        callback(null, chunk);
      },
    }),
  );
  if (absPath.endsWith('.gz')) return chain(raw, createGunzip());
  if (absPath.endsWith('.zst')) return chain(raw, zstdTransform());
  return raw;
}

/** Pipes `from` into `to`, forwarding `from`'s errors to `to`. */
function chain(from: Readable, to: Transform): Readable {
  from.on('error', (error) => to.destroy(error));
  return from.pipe(to);
}
