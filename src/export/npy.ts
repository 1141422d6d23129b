/**
 * NumPy's `.npy` format, version 1.0, for one-dimensional little-endian integer arrays
 * (numpy/lib/format.py, "Format Version 1.0"): the magic string `\x93NUMPY`, the bytes 1 and 0,
 * a little-endian u16 header length, then an ASCII Python dict literal
 * `{'descr': '<i4', 'fortran_order': False, 'shape': (N,), }` padded with spaces and ended by
 * `\n` so that the data starts at a multiple of 64 bytes, then the raw array; written byte for
 * byte as `numpy.save` writes the same array. `numpy.load(path,
 * mmap_mode="r")` maps it without copying.
 */
import { InvariantError } from '../core/errors.ts';

/** A little-endian integer dtype this module writes: int32 or int64. */
export type NpyDtype = '<i4' | '<i8';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00]);
const PREAMBLE_BYTES = MAGIC.length + 2;
const ALIGN_BYTES = 64;
/** numpy's `GROWTH_AXIS_MAX_DIGITS`. */
const GROWTH_DIGITS = 21;

/** Bytes per item of `dtype`. */
export function npyItemBytes(dtype: NpyDtype): number {
  return dtype === '<i4' ? 4 : 8;
}

/**
 * The header (magic through the dict's `\n`) of a 1-D array of `length` items, byte for byte as
 * `numpy.save` writes it (numpy/lib/_format_impl.py `_write_array_header`, `_wrap_header`): the
 * dict, `21 - digits(length)` spaces of room to grow, then spaces so that the data starts at a
 * multiple of 64 bytes (a whole 64 when already aligned), then `\n`.
 */
export function encodeNpyHeader(dtype: NpyDtype, length: number): Uint8Array {
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${length},), }` + ' '.repeat(Math.max(0, GROWTH_DIGITS - String(length).length));
  const withNewline = dict.length + 1;
  const padding = ALIGN_BYTES - ((PREAMBLE_BYTES + withNewline) % ALIGN_BYTES);
  const header = dict + ' '.repeat(padding) + '\n';
  const out = Buffer.alloc(PREAMBLE_BYTES + header.length);
  MAGIC.copy(out, 0);
  out.writeUInt16LE(header.length, MAGIC.length);
  out.write(header, PREAMBLE_BYTES, 'latin1');
  return out;
}

/** What {@link parseNpyHeader} found. */
export interface NpyHeader {
  dtype: NpyDtype;
  length: number;
  /** Byte offset of the data. */
  dataOffset: number;
}

/**
 * Parses the header of a 1-D `.npy` file of one of the {@link NpyDtype}s.
 * @param file - for messages only.
 * @throws InvariantError on another magic, version, dtype, order or shape.
 */
export function parseNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < PREAMBLE_BYTES || !buffer.subarray(0, MAGIC.length).equals(MAGIC))
    throw new InvariantError(`${file}: not a version 1.0 .npy file (magic ${buffer.subarray(0, MAGIC.length).toString('hex')})`, { file });
  const headerBytes = buffer.readUInt16LE(MAGIC.length);
  const header = buffer.toString('latin1', PREAMBLE_BYTES, PREAMBLE_BYTES + headerBytes);
  const match = /^\{'descr': '(<i4|<i8)', 'fortran_order': False, 'shape': \((\d+),\), \} *\n$/.exec(header);
  if (!match) throw new InvariantError(`${file}: .npy header ${JSON.stringify(header.trim())} is not a 1-D little-endian int32/int64 array`, { file });
  return { dtype: match[1] as NpyDtype, length: Number(match[2]), dataOffset: PREAMBLE_BYTES + headerBytes };
}
