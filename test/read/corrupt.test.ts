/**
 * Broken input files at the reader: every truncated or corrupt variant gives one CorruptInputError
 * with the file, the compressed byte offset and the records read before the break (never a stack
 * trace of another type, never a hang); 0-byte JSON Lines and text files are `empty_file`, 0-byte
 * gzip, zstd and Parquet files (which always hold a header or footer) are corrupt.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { asyncBufferFromFile, parquetMetadata, parquetSchema } from 'hyparquet';
import { getTreePath } from 'hyparquet/src/schema.js';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import type { SourceConfig } from '../../src/config/schema.ts';
import type { ReadItem } from '../../src/core/doc.ts';
import { CorruptInputError, InputError } from '../../src/core/errors.ts';
import { readFile as readInput, readSources } from '../../src/read/index.ts';
import type { InputFile } from '../../src/read/files.ts';
import { columnPages, MAX_PARQUET_PAGE_BYTES, PageError } from '../../src/read/parquetPages.ts';
import { MAX_TEXT_BYTES, readTextFile } from '../../src/read/text.ts';
import { removeTempDirs, tempDir } from '../helpers/build.ts';
import { SHARED_SAMPLES, skipWithoutSharedSamples } from '../helpers/sharedSamples.ts';

afterAll(removeTempDirs);

const source = (format: 'jsonl' | 'parquet' | 'text'): SourceConfig =>
  ({
    name: 's',
    format,
    paths: [],
    window: 'short',
    budgetTokens: 'all',
    lengthTokens: { min: 2, max: 100 },
    maxRepetition: 1,
    oversample: 1.5,
    prefilter: true,
  }) as SourceConfig;

async function fileOf(name: string, bytes: Buffer | Uint8Array): Promise<InputFile> {
  const absPath = path.join(await tempDir(), name);
  await writeFile(absPath, bytes);
  return { relPath: name, idPath: name, absPath, sizeBytes: bytes.length };
}

/** Reads `file` whole; returns the items before the error and the error (null when none). */
async function readAll(format: 'jsonl' | 'parquet' | 'text', file: InputFile): Promise<{ items: ReadItem[]; error: Error | null }> {
  const items: ReadItem[] = [];
  try {
    for await (const item of readInput(source(format), file)) items.push(item);
    return { items, error: null };
  } catch (error) {
    return { items, error: error as Error };
  }
}

/** Expects a CorruptInputError with exactly this message, offset and record count (also the records yielded). */
async function expectBreak(format: 'jsonl' | 'parquet' | 'text', file: InputFile, message: string, byteOffset: number, recordsRead: number) {
  const { items, error } = await readAll(format, file);
  expect(error).toBeInstanceOf(CorruptInputError);
  expect(error!.message).toBe(message);
  expect(error).toMatchObject({ file: file.relPath, byteOffset, recordsRead, context: { file: file.relPath, byteOffset, recordsRead } });
  expect(items.filter((i) => i.kind !== 'skipped')).toHaveLength(recordsRead);
}

const lines = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ text: `document ${i} ${'abc '.repeat(i % 40)}` })).join('\n') + '\n';

describe('gzip', () => {
  const gz = gzipSync(lines(3000));

  it('truncated mid-member: the offset is the end of the data, the records are the whole lines before it', async () => {
    const file = await fileOf('t.jsonl.gz', gz.subarray(0, 5000));
    await expectBreak(
      'jsonl',
      file,
      't.jsonl.gz: cannot decode gzip data at compressed byte 5000, after 1386 records: unexpected end of data (truncated file)',
      5000,
      1386,
    );
  });

  it('flipped bytes: deflate data that does not decode, and a CRC-32 mismatch at the end of the member', async () => {
    const early = Buffer.from(gz);
    early[100] ^= 0x55;
    await expectBreak(
      'jsonl',
      await fileOf('f.jsonl.gz', early),
      'f.jsonl.gz: cannot decode gzip data at compressed byte 0, after 0 records: invalid distance too far back',
      0,
      0,
    );
    const crc = Buffer.from(gz);
    crc[gz.length - 6] ^= 0x01; // inside the stored CRC-32
    const { items, error } = await readAll('jsonl', await fileOf('c.jsonl.gz', crc));
    expect(error).toBeInstanceOf(CorruptInputError);
    // zlib checks the CRC at the end of the member: the lines decoded before the check were delivered
    // unverified, up to the last 16 KiB of output, which zlib drops with the error.
    expect(error!.message).toBe('c.jsonl.gz: cannot decode gzip data at compressed byte 10021, after 2853 records: incorrect data check');
    expect(items).toHaveLength(2853);
  });

  it('garbage after the last member is an error, not ignored', async () => {
    const file = await fileOf('g.jsonl.gz', Buffer.concat([gz, Buffer.from('<html>oops</html>')]));
    const { error } = await readAll('jsonl', file);
    expect(error).toBeInstanceOf(CorruptInputError);
    expect(error!.message).toBe('g.jsonl.gz: cannot decode gzip data at compressed byte 10021, after 2853 records: incorrect header check');
  });
});

describe.skipIf(skipWithoutSharedSamples)('zstd (the real RedPajama common_crawl sample, 27,780 bytes, one frame with a checksum)', () => {
  const sample = () => readFile(path.join(SHARED_SAMPLES, 'redpajama-v1/redpajama-cc-2023-06-refined.jsonl.zst'));

  it('reads all 10 records of the intact file', async () => {
    const { items, error } = await readAll('jsonl', await fileOf('ok.jsonl.zst', await sample()));
    expect(error).toBeNull();
    expect(items.filter((i) => i.kind === 'doc')).toHaveLength(10);
  });

  it('truncated: the offset is the end of the data', async () => {
    const file = await fileOf('t.jsonl.zst', (await sample()).subarray(0, 20_000));
    await expectBreak(
      'jsonl',
      file,
      't.jsonl.zst: cannot decode zstd data at compressed byte 20000, after 4 records: unexpected end of data: the frame at byte 0 is incomplete (truncated file)',
      20_000,
      4,
    );
  });

  it('a corrupt frame: a block that does not decode names the block; a flipped literal fails the content checksum', async () => {
    const bad = await sample();
    bad[10] ^= 0x20;
    await expectBreak(
      'jsonl',
      await fileOf('b.jsonl.zst', bad),
      'b.jsonl.zst: cannot decode zstd data at compressed byte 6899, after 2 records: offset is out of bounds in the block at byte 6899',
      6899,
      2,
    );
    const flipped = await sample();
    flipped[15_000] ^= 0x20;
    await expectBreak(
      'jsonl',
      await fileOf('x.jsonl.zst', flipped),
      'x.jsonl.zst: cannot decode zstd data at compressed byte 0, after 10 records: content checksum mismatch in the frame at byte 0 (stored 7b7bd258, computed 194f5e9c): the data is corrupt',
      0,
      10,
    );
  });

  it('a second frame of garbage, and a frame that asks for a window over 128 MiB', async () => {
    const garbage = Buffer.concat([await sample(), Buffer.from('garbage!')]);
    await expectBreak(
      'jsonl',
      await fileOf('g.jsonl.zst', garbage),
      'g.jsonl.zst: cannot decode zstd data at compressed byte 27780, after 10 records: expected a zstd frame at byte 27780, found bytes 67 61 72 62',
      27_780,
      10,
    );
    // Magic, descriptor 0 (no single segment, no checksum), window descriptor 0x90: 2^(10+18) = 256 MiB.
    const huge = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x90, 0x01, 0x00, 0x00]);
    await expectBreak(
      'jsonl',
      await fileOf('w.jsonl.zst', huge),
      "w.jsonl.zst: cannot decode zstd data at compressed byte 0, after 0 records: the frame at byte 0 needs a 268435456-byte window, above the 134217728-byte limit (zstd's own default); recompress it without --long",
      0,
      0,
    );
  });
});

describe('Parquet', () => {
  const texts = Array.from({ length: 30 }, (_, i) => `row ${i} ${'xyz '.repeat(i)}`);
  const parquet = Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'text', data: texts, type: 'STRING' }], rowGroupSize: 10 }));
  const pageOf = (group: number) =>
    Number(
      parquetMetadata(parquet.buffer.slice(parquet.byteOffset, parquet.byteOffset + parquet.length)).row_groups[group].columns[0].meta_data!.data_page_offset,
    );

  it('reads 30 rows in 3 row groups when intact', async () => {
    const { items, error } = await readAll('parquet', await fileOf('ok.parquet', parquet));
    expect(error).toBeNull();
    expect(items.map((i) => (i.kind === 'doc' ? i.doc.text : i.kind))).toEqual(texts);
  });

  it('a truncated footer, a file that is not Parquet, and one too short to be Parquet', async () => {
    const n = parquet.length;
    await expectBreak(
      'parquet',
      await fileOf('t.parquet', parquet.subarray(0, n - 3)),
      `t.parquet: not a readable Parquet file: it does not end with PAR1: the file is truncated or was not written to the end (byte ${n - 7})`,
      n - 7,
      0,
    );
    await expectBreak(
      'parquet',
      await fileOf('s.parquet', Buffer.from('PAR1')),
      's.parquet: not a readable Parquet file: 4 bytes, too short to be Parquet (at least 13: PAR1, metadata, its length, PAR1) (byte 0)',
      0,
      0,
    );
    await expectBreak(
      'parquet',
      await fileOf('z.parquet', gzipSync(parquet)),
      'z.parquet: not a readable Parquet file: it is gzip-compressed (magic 1f 8b 08 00); decompress it (byte 0)',
      0,
      0,
    );
    const badLength = Buffer.from(parquet);
    badLength.writeUInt32LE(n, n - 8);
    await expectBreak(
      'parquet',
      await fileOf('l.parquet', badLength),
      `l.parquet: not a readable Parquet file: its footer gives a metadata length of ${n} bytes, which does not fit in the file (byte ${n - 8})`,
      n - 8,
      0,
    );
  });

  it('a corrupt page in the third row group: the page offset and the 20 records read before it', async () => {
    const at = pageOf(2);
    const bad = Buffer.from(parquet);
    bad.fill(0xff, at, at + 8); // the page header
    const { items, error } = await readAll('parquet', await fileOf('p.parquet', bad));
    expect(error).toBeInstanceOf(CorruptInputError);
    expect(error!.message).toMatch(new RegExp(`^p\\.parquet: row group 2 \\(rows 20\\.\\.29\\), column "text", page at byte ${at}, after 20 records: `));
    expect(error).toMatchObject({ byteOffset: at, recordsRead: 20 });
    expect(items).toHaveLength(20);
  });
});

describe('Parquet page checksums', () => {
  it('a page whose CRC-32 does not match is corrupt, not read as changed text', async () => {
    // test/fixtures/read/README.md: written by pyarrow with write_page_checksum=True, one uncompressed page at byte 4.
    const fixture = await readFile(fileURLToPath(new URL('../fixtures/read/page-crc.parquet', import.meta.url)));
    const intact = await readAll('parquet', await fileOf('crc.parquet', fixture));
    expect(intact.items.map((i) => (i.kind === 'doc' ? i.doc.text : i.kind))).toEqual(['checked page one', 'checked page two', 'three']);
    const flipped = Buffer.from(fixture);
    flipped[flipped.lastIndexOf('three', 112)] = 0x54; // "Three": still valid UTF-8 text
    const { items, error } = await readAll('parquet', await fileOf('flip.parquet', flipped));
    expect(items).toEqual([]);
    expect(error).toBeInstanceOf(CorruptInputError);
    expect(error!.message).toMatch(
      /^flip\.parquet: row group 0 \(rows 0\.\.2\), column "text", page at byte 4, after 0 records: the page's CRC-32 [0-9a-f]+ does not match its data \([0-9a-f]+\): the data is corrupt$/,
    );
    expect(error).toMatchObject({ byteOffset: 4, recordsRead: 0 });
  });
});

describe('Parquet pages above the page limit', () => {
  it('are refused before they are read, naming the page offset, its size and the limit', async () => {
    const big = Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'text', data: ['a'.repeat(5000), 'b'], type: 'STRING' }], codec: 'UNCOMPRESSED' }));
    const meta = parquetMetadata(big.buffer.slice(big.byteOffset, big.byteOffset + big.length)).row_groups[0].columns[0].meta_data!;
    const schema = parquetSchema(parquetMetadata(big.buffer.slice(big.byteOffset, big.byteOffset + big.length)));
    const file = await fileOf('big.parquet', big);
    const pages = columnPages(await asyncBufferFromFile(file.absPath), {
      meta,
      schemaPath: getTreePath(schema, ['text']),
      rows: 2,
      utf8: true,
      parsers: {},
      maxPageBytes: 1000,
    });
    const error = await pages.next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PageError);
    expect(error).toMatchObject({ byteOffset: Number(meta.data_page_offset), tooLarge: true });
    expect((error as Error).message).toMatch(/^a page of 50\d\d bytes, above the 1000-byte limit \(MAX_PARQUET_PAGE_BYTES\)$/);
    expect(MAX_PARQUET_PAGE_BYTES).toBe(64 * 1024 * 1024);
  });
});

describe('0-byte files and files with no record', () => {
  it.each([
    ['jsonl', 'a.jsonl'],
    ['text', 'a.txt'],
  ] as const)('%s %s of 0 bytes is the skip empty_file', async (format, name) => {
    const file = await fileOf(name, Buffer.alloc(0));
    const items: ReadItem[] = [];
    for await (const item of readSources([{ config: source(format), files: [file] }])) items.push(item);
    expect(items).toEqual([{ kind: 'skipped', skipped: { source: 's', reason: 'empty_file', where: name } }]);
  });

  it.each([
    [
      'jsonl',
      'a.jsonl.gz',
      'a.jsonl.gz: named .gz but is not gzip data (is 0 bytes long, expected 1f 8b); a broken download or a mislabelled file: fetch it again or rename it',
    ],
    [
      'jsonl',
      'a.jsonl.zst',
      'a.jsonl.zst: named .zst but is not zstd data (is 0 bytes long, expected 28 b5 2f fd); a broken download or a mislabelled file: fetch it again or rename it',
    ],
    [
      'text',
      'a.txt.gz',
      'a.txt.gz: named .gz but is not gzip data (is 0 bytes long, expected 1f 8b); a broken download or a mislabelled file: fetch it again or rename it',
    ],
    ['parquet', 'a.parquet', 'a.parquet: 0 bytes long, not a Parquet file (one ends with its footer and "PAR1"); a broken download: fetch it again'],
  ] as const)('%s %s of 0 bytes is corrupt (the format always holds a header or footer), at byte 0', async (format, name, message) => {
    const file = await fileOf(name, Buffer.alloc(0));
    const read = async () => {
      for await (const item of readSources([{ config: source(format), files: [file] }])) void item;
    };
    const error = await read().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CorruptInputError);
    expect((error as CorruptInputError).message).toBe(message);
    expect((error as CorruptInputError).byteOffset).toBe(0);
  });

  it('a text file that decompresses to nothing is empty_file too', async () => {
    const items: ReadItem[] = [];
    for await (const item of readSources([{ config: source('text'), files: [await fileOf('e.txt.gz', gzipSync(''))] }])) items.push(item);
    expect(items).toEqual([{ kind: 'skipped', skipped: { source: 's', reason: 'empty_file', where: 'e.txt.gz' } }]);
  });
});

describe('compression recognised by magic bytes and extension', () => {
  const record = Buffer.from('{"text":"one"}\n');

  it.each([
    ['a.jsonl.xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04], 'xz-compressed (magic fd 37 7a 58 5a 00 at byte 0)', 'xz -dc FILE | zstd -o FILE.zst'],
    [
      'a.jsonl.bz2',
      [...Buffer.from('BZh91AY&SY'), 0, 0],
      'bzip2-compressed (magic 42 5a 68 39 31 41 59 26 53 59 at byte 0)',
      'bzip2 -dc FILE | zstd -o FILE.zst',
    ],
    ['a.jsonl', [0x04, 0x22, 0x4d, 0x18, 0x64, 0x40], 'lz4-compressed (magic 04 22 4d 18 at byte 0)', 'lz4 -dc FILE | zstd -o FILE.zst'],
    ['a.zip', [0x50, 0x4b, 0x03, 0x04, 0x14, 0x00], 'zip-compressed (magic 50 4b 03 04 at byte 0)', 'unzip it and list the files it holds'],
    ['a.7z', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4], '7z-compressed (magic 37 7a bc af 27 1c at byte 0)', 'extract it with 7z and list the files it holds'],
    ['a.jsonl.br', [...record], 'brotli-compressed (by its extension .br)', 'brotli -dc FILE | zstd -o FILE.zst'],
  ])('%s is refused, saying what is supported', async (name, bytes, what, remedy) => {
    const { items, error } = await readAll('jsonl', await fileOf(name, Buffer.from(bytes)));
    expect(items).toEqual([]);
    expect(error).toBeInstanceOf(InputError);
    expect(error).not.toBeInstanceOf(CorruptInputError);
    expect(error!.message).toBe(
      `${name}: ${what}, which longmix does not read; supported: gzip (.gz, magic 1f 8b), zstd (.zst, magic 28 b5 2f fd) or none; convert it, e.g. ${remedy}`,
    );
  });

  it('a Parquet file given to the JSONL or text reader is refused, not read as bad records', async () => {
    const parquet = Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'text', data: ['a'], type: 'STRING' }] }));
    for (const format of ['jsonl', 'text'] as const) {
      const { items, error } = await readAll(format, await fileOf('p.jsonl', parquet));
      expect(items).toEqual([]);
      expect(error).toBeInstanceOf(InputError);
      expect(error!.message).toBe(
        "p.jsonl: a Parquet file (magic 50 41 52 31 at byte 0), not text or JSON Lines; set the source's format: parquet (or its Parquet dataset)",
      );
    }
  });

  it('a text file over the limit is the bad record text_too_long, read no further', async () => {
    const file = await fileOf('big.txt.gz', gzipSync('x'.repeat(300_000)));
    const items: ReadItem[] = [];
    for await (const item of readTextFile('s', file, undefined, 100_000)) items.push(item);
    expect(items).toEqual([
      { kind: 'bad', bad: { source: 's', reason: 'text_too_long', where: 'big.txt.gz', detail: 'text is longer than 100000 bytes (MAX_TEXT_BYTES)' } },
    ]);
    expect(MAX_TEXT_BYTES).toBe(64 * 1024 * 1024);
  });

  it('a gzip file named .jsonl and a text file in gzip are decompressed; a plain file named .gz is corrupt at byte 0', async () => {
    const { items } = await readAll('jsonl', await fileOf('g.jsonl', gzipSync(record)));
    expect(items).toEqual([{ kind: 'doc', doc: { source: 's', id: 'g.jsonl:1', idWhere: 'g.jsonl:1', text: 'one' } }]);
    const text = await readAll('text', await fileOf('b.txt.gz', gzipSync('a book')));
    expect(text.items).toEqual([{ kind: 'doc', doc: { source: 's', id: 'b.txt.gz', idWhere: 'b.txt.gz', text: 'a book' } }]);
    await expectBreak(
      'jsonl',
      await fileOf('p.jsonl.gz', Buffer.from('<!DOCTYPE html>')),
      'p.jsonl.gz: named .gz but is not gzip data (starts with 3c 21 44 4f 43 54 59 50 "<!DOCTYP", expected 1f 8b); a broken download or a mislabelled file: fetch it again or rename it',
      0,
      0,
    );
  });
});
