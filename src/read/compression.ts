/**
 * Which compression a file uses, from its first bytes (the content decides) and its name.
 *
 * Rules, in order:
 * 1. The file starts with the magic number of a supported codec (gzip `1f 8b`, zstd `28 b5 2f fd`
 *    or a zstd skippable frame `5? 2a 4d 18`): it is decoded with that codec, whatever its name (a
 *    gzip file named `.jsonl` is read; neither magic can begin valid UTF-8 text).
 * 2. It starts with the magic number of another compression or archive format (xz, bzip2, lz4,
 *    zip, 7z, Unix compress, framed snappy): {@link InputError} naming the format and what is
 *    supported; or with `PAR1`, a Parquet file given to a text or JSONL reader (which would
 *    otherwise turn it into bad records).
 * 3. Its name ends with a compression extension but rule 1 and 2 found no magic: for `.gz`/`.zst`
 *    it is not what its name says (a broken download, an HTML error page):
 *    {@link CorruptInputError} at byte 0; for the others (brotli `.br` has no magic at all)
 *    {@link InputError} as in rule 2.
 * 4. Otherwise it is read as it is.
 * Magic numbers: RFC 1952 (gzip), RFC 8878 (zstd), the xz, bzip2, LZ4 frame, ZIP and 7z format
 * specifications.
 */
import { CorruptInputError, InputError } from '../core/errors.ts';

/** A codec the readers decode. */
export type Codec = 'none' | 'gzip' | 'zstd';

interface Format {
  name: string;
  codec?: Exclude<Codec, 'none'>;
  /** Byte patterns at offset 0; `null` matches any byte. */
  magic: (number | null)[][];
  extensions: string[];
  /** How to get a supported file from it. */
  remedy: string;
}

/** Every format recognised, supported ones first. */
const FORMATS: Format[] = [
  { name: 'gzip', codec: 'gzip', magic: [[0x1f, 0x8b]], extensions: ['.gz', '.gzip'], remedy: '' },
  {
    name: 'zstd',
    codec: 'zstd',
    magic: [[0x28, 0xb5, 0x2f, 0xfd], ...Array.from({ length: 16 }, (_, i) => [0x50 + i, 0x2a, 0x4d, 0x18])],
    extensions: ['.zst', '.zstd'],
    remedy: '',
  },
  { name: 'xz', magic: [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]], extensions: ['.xz', '.txz'], remedy: 'xz -dc FILE | zstd -o FILE.zst' },
  {
    name: 'bzip2',
    // "BZh", a block size digit 1-9, then the block magic 0x314159265359 (pi): plain text cannot pass for it.
    magic: Array.from({ length: 9 }, (_, i) => [0x42, 0x5a, 0x68, 0x31 + i, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59]),
    extensions: ['.bz2', '.bzip2', '.tbz2'],
    remedy: 'bzip2 -dc FILE | zstd -o FILE.zst',
  },
  {
    name: 'lz4',
    magic: [
      [0x04, 0x22, 0x4d, 0x18],
      [0x02, 0x21, 0x4c, 0x18],
    ],
    extensions: ['.lz4'],
    remedy: 'lz4 -dc FILE | zstd -o FILE.zst',
  },
  {
    name: 'zip',
    magic: [
      [0x50, 0x4b, 0x03, 0x04],
      [0x50, 0x4b, 0x05, 0x06],
    ],
    extensions: ['.zip'],
    remedy: 'unzip it and list the files it holds',
  },
  { name: '7z', magic: [[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]], extensions: ['.7z'], remedy: 'extract it with 7z and list the files it holds' },
  { name: 'Unix compress', magic: [[0x1f, 0x9d]], extensions: ['.z'], remedy: 'uncompress -c FILE | zstd -o FILE.zst' },
  {
    name: 'framed snappy',
    magic: [[0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]],
    extensions: ['.sz', '.snappy'],
    remedy: 'decompress it and recompress with zstd',
  },
  { name: 'brotli', magic: [], extensions: ['.br'], remedy: 'brotli -dc FILE | zstd -o FILE.zst' },
  { name: 'Parquet', magic: [[0x50, 0x41, 0x52, 0x31]], extensions: [], remedy: "set the source's format: parquet (or its Parquet dataset)" },
  { name: 'lzma', magic: [], extensions: ['.lzma'], remedy: 'xz --format=lzma -dc FILE | zstd -o FILE.zst' },
];

/** Bytes to read from the start of a file for {@link detectCodec}. */
export const SNIFF_BYTES = 16;

/** What is supported, for messages. */
export const SUPPORTED_COMPRESSIONS = 'gzip (.gz, magic 1f 8b), zstd (.zst, magic 28 b5 2f fd) or none';

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');

function printable(bytes: Uint8Array): string {
  return [...bytes].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
}

function matches(head: Uint8Array, magic: (number | null)[]): boolean {
  return head.length >= magic.length && magic.every((b, i) => b === null || head[i] === b);
}

function unsupported(relPath: string, format: Format, how: string): InputError {
  if (format.name === 'Parquet') {
    return new InputError(`${relPath}: a Parquet file (${how}), not text or JSON Lines; ${format.remedy}`, { file: relPath, byteOffset: 0, format: 'parquet' });
  }
  return new InputError(
    `${relPath}: ${format.name}-compressed (${how}), which longmix does not read; supported: ${SUPPORTED_COMPRESSIONS}; convert it, e.g. ${format.remedy}`,
    { file: relPath, byteOffset: 0, compression: format.name },
  );
}

/** The recognised compression format whose magic number starts `head`, or null. */
export function compressionOf(head: Uint8Array): { name: string; codec?: Codec } | null {
  return FORMATS.find((f) => f.magic.some((m) => matches(head, m))) ?? null;
}

/**
 * The codec of a file from its first bytes `head` (at least {@link SNIFF_BYTES} when the file has
 * them) and its name `relPath`, by the rules in the header.
 * @throws InputError for a recognised but unsupported compression (by magic or by extension);
 *   CorruptInputError (byte 0, no record read) for a file named `.gz`/`.zst` that holds another format.
 */
export function detectCodec(head: Uint8Array, relPath: string): Codec {
  const byMagic = FORMATS.find((f) => f.magic.some((m) => matches(head, m)));
  if (byMagic?.codec) return byMagic.codec;
  if (byMagic) throw unsupported(relPath, byMagic, `magic ${hex(head.subarray(0, byMagic.magic[0].length))} at byte 0`);
  const lower = relPath.toLowerCase();
  const byName = FORMATS.find((f) => f.extensions.some((e) => lower.endsWith(e)));
  if (!byName) return 'none';
  if (byName.codec) {
    const start = head.subarray(0, 8);
    const what = head.length === 0 ? 'is 0 bytes long' : `starts with ${hex(start)} "${printable(start)}"`;
    throw new CorruptInputError(
      `${relPath}: named ${byName.extensions[0]} but is not ${byName.name} data (${what}, expected ${hex(new Uint8Array(byName.magic[0] as number[]))}); a broken download or a mislabelled file: fetch it again or rename it`,
      relPath,
      0,
      0,
    );
  }
  throw unsupported(relPath, byName, `by its extension ${byName.extensions.find((e) => lower.endsWith(e))}`);
}

/**
 * Compressed data that cannot be decoded: {@link byteOffset} is the compressed offset, bytes, up
 * to which the data decoded (the damage lies at or after it). The readers turn it into a
 * {@link CorruptInputError} that also counts the records read.
 */
export class DecodeError extends Error {
  /**
   * @param message - what broke, without the file name.
   * @param codec - `gzip` or `zstd`.
   * @param byteOffset - compressed byte offset, 0-based.
   * @param options - `cause` of a wrapped error.
   */
  constructor(
    message: string,
    readonly codec: Exclude<Codec, 'none'>,
    readonly byteOffset: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DecodeError';
  }
}
