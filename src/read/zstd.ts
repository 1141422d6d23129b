/**
 * Zstandard decoding for the readers. fzstd (pure JS) decodes; a frame walker of ours follows the
 * frame and block boundaries of the compressed bytes (RFC 8878 §3.1: frame header, 3-byte block
 * headers, optional 4-byte checksum; skippable frames) and hands fzstd one unit at a time, so that
 * - every error names the compressed byte offset of the frame or block where the data broke, and a
 *   truncated file is told from a corrupt one;
 * - each frame's content checksum (low 32 bits of XXH64, seed 0, over the frame's decoded bytes;
 *   the zstd CLI writes it by default) is verified with xxhash-wasm, and a declared content size is
 *   checked. fzstd skips both, so without this a flipped byte inside a literal section would pass
 *   as text. A frame written without a checksum cannot be checked;
 * - a frame that asks for a window above {@link MAX_ZSTD_WINDOW_BYTES} is refused before fzstd
 *   allocates it; dictionaries and reserved header bits are refused.
 */
import { Decompress } from 'fzstd';
import xxhash from 'xxhash-wasm';
import { DecodeError } from './compression.ts';

/**
 * Largest window a zstd frame may need, bytes: 2^27 = 128 MiB, the zstd library's own default
 * decoding limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT); `zstd --long=31` files need `zstd -d --long=31`.
 */
export const MAX_ZSTD_WINDOW_BYTES = 2 ** 27;

/** Largest compressed block, bytes (RFC 8878 §3.1.1.2.3: Block_Maximum_Size ≤ 128 KiB). */
const MAX_BLOCK_BYTES = 128 * 1024;

const hasher = xxhash();

type Hasher = ReturnType<Awaited<typeof hasher>['create64']>;

/** A frame being decoded. */
interface Frame {
  start: number;
  checksum: boolean;
  contentSize: number | null;
  outputBytes: number;
  hash: Hasher | null;
}

const u32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
const uint = (b: Uint8Array, at: number, n: number) => {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[at + i];
  return v;
};

/** Frame header length from its first 5 bytes (magic + descriptor). */
function frameHeaderBytes(descriptor: number): number {
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictBytes = [0, 1, 2, 4][descriptor & 3];
  const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
  return 5 + (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
}

/** A synchronous, incremental zstd decoder (see the header). */
export interface ZstdDecoder {
  /**
   * Decodes the next compressed bytes; decoded bytes go to the `onData` callback as they come.
   * @throws DecodeError naming the compressed offset of the frame or block that broke.
   */
  push(chunk: Uint8Array): void;
  /**
   * Ends the input.
   * @throws DecodeError when the data ends inside a frame (a truncated file).
   */
  end(): void;
}

/**
 * A zstd decoder for a stream of any number of frames (skippable ones included); decoded bytes
 * go to `onData` in order.
 */
export async function zstdDecoder(onData: (decoded: Uint8Array) => void): Promise<ZstdDecoder> {
  const { create64 } = await hasher;
  let offset = 0; // compressed bytes walked
  let unitStart = 0; // offset of the frame header, block header or checksum being walked
  let acc: number[] = []; // bytes of a header being gathered
  let state: 'frame' | 'block' | 'body' | 'checksum' | 'skip' = 'frame';
  let left = 0; // bytes left in the block body or skippable frame
  let last = false;
  let frame: Frame | null = null;

  const fail = (message: string, at = unitStart): never => {
    throw new DecodeError(message, 'zstd', at);
  };
  const decoder = new Decompress((data) => {
    if (frame) {
      frame.outputBytes += data.length;
      frame.hash?.update(data);
    }
    if (data.length) onData(data);
  });
  const feed = (bytes: Uint8Array) => {
    try {
      decoder.push(bytes);
    } catch (error) {
      throw new DecodeError(`${(error as Error).message} in the ${state === 'body' ? 'block' : 'frame'} at byte ${unitStart}`, 'zstd', unitStart, {
        cause: error,
      });
    }
  };

  /** A header of `frame` state is complete in `acc`: starts the frame or skippable frame. */
  const startFrame = (head: Uint8Array): boolean => {
    const magic = u32(head, 0);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      if (head.length < 8) return false;
      left = u32(head, 4);
      state = 'skip';
      return true;
    }
    if (magic !== 0xfd2fb528)
      fail(`expected a zstd frame at byte ${unitStart}, found bytes ${[...head.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
    if (head.length < 5) return false;
    const descriptor = head[4];
    if (head.length < frameHeaderBytes(descriptor)) return false;
    if (descriptor & 0x08) fail(`the frame at byte ${unitStart} sets a reserved header bit`);
    const singleSegment = (descriptor >> 5) & 1;
    const dictBytes = [0, 1, 2, 4][descriptor & 3];
    let at = 5 + (singleSegment ? 0 : 1);
    if (dictBytes && uint(head, at, dictBytes) !== 0)
      fail(`the frame at byte ${unitStart} needs zstd dictionary ${uint(head, at, dictBytes)}; dictionaries are not supported`);
    at += dictBytes;
    const fcsFlag = descriptor >> 6;
    const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
    const contentSize = fcsBytes ? uint(head, at, fcsBytes) + (fcsBytes === 2 ? 256 : 0) : null;
    let window = contentSize ?? 0;
    if (!singleSegment) {
      const exponent = 10 + (head[5] >> 3);
      window = 2 ** exponent + (2 ** exponent / 8) * (head[5] & 7);
    }
    if (window > MAX_ZSTD_WINDOW_BYTES) {
      fail(
        `the frame at byte ${unitStart} needs a ${window}-byte window, above the ${MAX_ZSTD_WINDOW_BYTES}-byte limit (zstd's own default); recompress it without --long`,
      );
    }
    const checksum = Boolean(descriptor & 0x04);
    frame = { start: unitStart, checksum, contentSize, outputBytes: 0, hash: checksum ? create64(0n) : null };
    state = 'block';
    return true;
  };

  /**
   * Makes fzstd decode what it holds: it keeps the first bytes of a frame until it has 18 of them
   * (or the input ends), so a whole frame shorter than that (a few bytes of text, as `zstd`
   * writes them) would otherwise never be decoded before the frame is checked, or at all.
   */
  const flush = () => {
    try {
      decoder.push(new Uint8Array(0), true);
    } catch (error) {
      throw new DecodeError(`${(error as Error).message} in the frame at byte ${frame?.start ?? unitStart}`, 'zstd', frame?.start ?? unitStart, {
        cause: error,
      });
    }
  };

  /** Ends the current frame after its last block (and checksum): decodes what fzstd holds, then checks size and checksum. */
  const endFrame = (stored: number | null) => {
    flush();
    const f = frame!;
    if (f.contentSize !== null && f.outputBytes !== f.contentSize) {
      fail(`the frame at byte ${f.start} decodes to ${f.outputBytes} bytes, its header says ${f.contentSize}`, f.start);
    }
    if (stored !== null) {
      const actual = Number(f.hash!.digest() & 0xffffffffn);
      if (actual !== stored)
        fail(
          `content checksum mismatch in the frame at byte ${f.start} (stored ${stored.toString(16)}, computed ${actual.toString(16)}): the data is corrupt`,
          f.start,
        );
    }
    frame = null;
    state = 'frame';
  };

  /** After a body or skippable frame is fed whole: the next unit. */
  const unitDone = () => {
    if (state === 'skip') state = 'frame';
    else if (!last) state = 'block';
    else if (frame!.checksum) state = 'checksum';
    else endFrame(null);
    unitStart = offset;
  };

  /** Takes one header byte; returns true when `acc` holds a complete header of the current state. */
  const header = (head: Uint8Array): boolean => {
    if (state === 'frame') return head.length >= 4 && startFrame(head);
    if (state === 'checksum') return head.length === 4;
    if (head.length < 3) return false;
    const v = head[0] | (head[1] << 8) | (head[2] << 16);
    const type = (v >> 1) & 3;
    const size = v >> 3;
    last = Boolean(v & 1);
    if (type === 3) fail(`the block at byte ${unitStart} has the reserved block type 3`);
    if (type !== 1 && size > MAX_BLOCK_BYTES) fail(`the block at byte ${unitStart} claims ${size} bytes, above the ${MAX_BLOCK_BYTES}-byte maximum`);
    left = type === 1 ? 1 : size;
    state = 'body';
    return true;
  };

  /** Walks `chunk`, feeding fzstd unit by unit. */
  const walk = (chunk: Uint8Array) => {
    let pos = 0;
    while (pos < chunk.length) {
      if (state === 'body' || state === 'skip') {
        const n = Math.min(left, chunk.length - pos);
        feed(chunk.subarray(pos, pos + n));
        pos += n;
        offset += n;
        left -= n;
        if (left === 0) unitDone();
        continue;
      }
      acc.push(chunk[pos++]);
      offset++;
      const head = Uint8Array.from(acc);
      const wasChecksum = state === 'checksum';
      if (!header(head)) continue;
      feed(head);
      acc = [];
      if (wasChecksum) {
        endFrame(u32(head, 0));
        unitStart = offset;
      } else if (state === 'frame' || state === 'block') unitStart = offset;
      else if (left === 0) unitDone(); // an empty block or skippable frame
    }
  };

  return {
    push: walk,
    end() {
      if (state === 'frame' && acc.length === 0) return;
      const where = frame ? `the frame at byte ${frame.start} is incomplete` : `a frame header at byte ${unitStart} is incomplete`;
      throw new DecodeError(`unexpected end of data: ${where} (truncated file)`, 'zstd', offset);
    },
  };
}
