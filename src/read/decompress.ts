/**
 * Byte streams of a file, decoded by its content (src/read/compression.ts): gzip (zlib, every
 * member; the CRC-32 and length of each member are checked at its end), zstd (src/read/zstd.ts,
 * every frame, checksums verified), anything else as it is.
 *
 * Compressed input is read and decoded {@link DECODE_PIECE_BYTES} at a time, and a break is
 * raised only after every byte decoded before it has been yielded: the records read before a
 * break depend on the data alone, never on stream timing. A gzip break's offset is the input zlib
 * had consumed before the failing step (exact to within one piece).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { DecodeError, detectCodec, SNIFF_BYTES, type Codec } from './compression.ts';
import { zstdDecoder } from './zstd.ts';

/** Compressed bytes read and decoded at a time (64 KiB). Uncompressed files are read 1 MiB at a time. */
export const DECODE_PIECE_BYTES = 64 * 1024;

/** The first `n` bytes of `absPath` (fewer when the file is shorter). */
export async function readHead(absPath: string, n = SNIFF_BYTES): Promise<Uint8Array> {
  const handle = await open(absPath, 'r');
  try {
    const buffer = Buffer.alloc(n);
    const { bytesRead } = await handle.read(buffer, 0, n, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The DecodeError of a zlib error, at the compressed offset zlib had consumed before it. */
function gunzipError(error: unknown, bytesWritten: number): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('Z_')) return error;
  const message = code === 'Z_BUF_ERROR' ? 'unexpected end of data (truncated file)' : (error as Error).message;
  return new DecodeError(message, 'gzip', bytesWritten, { cause: error });
}

/** Decodes gzip pieces; yields what each piece decoded to, then throws a break. */
async function* gunzipPieces(pieces: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const gunzip = createGunzip();
  let out: Buffer[] = [];
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  gunzip.on('data', (data: Buffer) => out.push(data));
  gunzip.on('error', (error) => {
    failure ??= error;
    wake?.();
  });
  /** Resolves when `start`'s step is done or zlib failed, whichever comes first. */
  const settled = (start: (done: () => void) => void) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      start(resolve);
    });
  const drain = function* () {
    yield* out;
    out = [];
    if (failure) throw gunzipError(failure, gunzip.bytesWritten);
  };
  try {
    for await (const piece of pieces) {
      await settled((done) => gunzip.write(piece, () => done()));
      yield* drain();
    }
    await settled((done) => {
      gunzip.once('end', done);
      gunzip.end();
    });
    yield* drain();
  } finally {
    gunzip.destroy();
  }
}

/** Decodes zstd pieces; yields what each piece decoded to, then throws a break. */
async function* zstdPieces(pieces: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let out: Buffer[] = [];
  const decoder = await zstdDecoder((data) => out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
  const step = function* (action: () => void) {
    let failure: unknown = null;
    try {
      action();
    } catch (error) {
      failure = error;
    }
    yield* out;
    out = [];
    if (failure) throw failure;
  };
  for await (const piece of pieces) yield* step(() => decoder.push(piece));
  yield* step(() => decoder.end());
}

/**
 * The decoded bytes of `absPath` (named `relPath` in messages), as Buffers in order.
 * @param onRawBytes - called with the count of stored (compressed) bytes read so far, for progress.
 * @returns the codec and the bytes; iterating throws {@link DecodeError} after yielding every byte
 *   decoded before a break, or the file system's error.
 * @throws InputError for an unsupported compression; CorruptInputError for a file named `.gz`/`.zst`
 *   that is not (see {@link detectCodec}).
 */
export async function openDecoded(
  absPath: string,
  relPath: string,
  onRawBytes?: (bytesRead: number) => void,
): Promise<{ codec: Codec; bytes: AsyncGenerator<Buffer> }> {
  const head = await readHead(absPath);
  const codec = detectCodec(head, relPath);
  const file = createReadStream(absPath, { highWaterMark: codec === 'none' ? 1 << 20 : DECODE_PIECE_BYTES });
  async function* raw(): AsyncGenerator<Buffer> {
    let bytesRead = 0;
    for await (const chunk of file) {
      bytesRead += (chunk as Buffer).length;
      onRawBytes?.(bytesRead);
      yield chunk as Buffer;
    }
  }
  if (codec === 'gzip') return { codec, bytes: gunzipPieces(raw()) };
  if (codec === 'zstd') return { codec, bytes: zstdPieces(raw()) };
  return { codec, bytes: raw() };
}
