/**
 * The bad-input suite's whole-file breakages (./badInputs.ts composes the suite): files that
 * break part-way (truncated or corrupt gzip, zstd and Parquet), inputs no policy reads
 * (unsupported compressions, a Parquet file given as JSONL, a missing or LZO column, RedPajama-v2
 * layout and quality-signals problems) and 0-byte files of every format, each beside a good
 * companion file where the case needs the source to hold a document.
 */
import { gzipSync } from 'node:zlib';
import {
  companion,
  GOOD,
  JSONL_FORMATS,
  jsonlFamily,
  parquet,
  PARQUET_FORMATS,
  parquetFamily,
  RPV2,
  sourceFor,
  TEXT_FORMATS,
  textFile,
  zstdStored,
  type BadInputCase,
  type SuiteFormat,
} from './badInputFormats.ts';

/** A file-level or 0-byte case: the broken file and a good companion, read through `sourceFor`. */
function withCompanion(id: string, format: SuiteFormat, kind: 'file' | 'empty', dir: string, broken: { path: string; bytes: Buffer }): BadInputCase {
  const good = companion(format, dir);
  return {
    id,
    format,
    breakage: id.slice(id.indexOf(' ') + 1),
    kind,
    files: [broken, good.file],
    broken: broken.path,
    source: sourceFor(format, dir),
    goodDocuments: good.documents,
  };
}

/** An input no policy reads: the file (and any sibling it needs) and the source. */
const input = (
  id: string,
  format: SuiteFormat,
  file: { path: string; bytes: Buffer },
  source: string,
  extra: { path: string; bytes: Buffer }[] = [],
): BadInputCase => ({
  id,
  format,
  breakage: id.slice(id.indexOf(' ') + 1),
  kind: 'input',
  files: [file, ...extra],
  broken: file.path,
  source,
  goodDocuments: 0,
});

/** Files that break part-way: truncated or corrupt gzip, zstd and Parquet. */
export function fileCases(next: () => string): BadInputCase[] {
  const linesOf = (field: string) =>
    Buffer.from(Array.from({ length: 400 }, (_, i) => JSON.stringify({ [field]: `line ${i} ${'words '.repeat(i % 17)}` })).join('\n') + '\n');
  const lines = linesOf('text');
  const gz = gzipSync(lines);
  const zst = zstdStored(lines);
  const rpv2 = gzipSync(linesOf('raw_content'));
  const flipped = (bytes: Buffer, at: number) => {
    const copy = Buffer.from(bytes);
    copy[at] ^= 0xff;
    return copy;
  };
  const reserved = Buffer.from(zst);
  reserved[6] |= 0x06; // the first block's Block_Type 3: reserved, a corrupt block
  const cases: BadInputCase[] = [];
  const jsonl: [SuiteFormat, Buffer, string][] = [
    ['jsonl.gz', gz.subarray(0, gz.length - 40), 'truncated gzip'],
    ['jsonl.gz', flipped(gz, gz.length - 6), 'gzip CRC-32 mismatch'],
    ['jsonl.gz', Buffer.concat([gz, Buffer.from('<html>trailing garbage</html>')]), 'garbage after the gzip member'],
    ['jsonl.gz', Buffer.from('<!DOCTYPE html><title>404</title>'), 'named .gz but not gzip'],
    ['redpajama-v2', rpv2.subarray(0, Math.floor(rpv2.length / 2)), 'truncated gzip'],
    ['redpajama-v1', gz.subarray(0, 200), 'truncated gzip under a .jsonl name'],
    ['jsonl.zst', zst.subarray(0, zst.length - 100), 'truncated zstd'],
    ['jsonl.zst', reserved, 'zstd block of the reserved type'],
    ['jsonl.zst', Buffer.from('plain text, not zstd'), 'named .zst but not zstd'],
  ];
  for (const [format, bytes, breakage] of jsonl) {
    const dir = next();
    cases.push(withCompanion(`${format} ${breakage}`, format, 'file', dir, { path: jsonlFamily(format, dir, Buffer.alloc(0)).path, bytes }));
  }
  const book = Buffer.from('a book '.repeat(2000));
  for (const [format, data] of [
    ['text.gz', gzipSync(book)],
    ['text.zst', zstdStored(book)],
  ] as const) {
    const dir = next();
    const broken = { path: textFile(format, dir, 'book', Buffer.alloc(0)).path, bytes: data.subarray(0, data.length - 30) };
    cases.push(withCompanion(`${format} truncated ${format === 'text.gz' ? 'gzip' : 'zstd'}`, format, 'file', dir, broken));
  }
  const pq = parquet([{ name: 'text', data: GOOD.concat(GOOD, GOOD), type: 'STRING' }]);
  const badLength = Buffer.from(pq);
  badLength.writeUInt32LE(pq.length * 2, pq.length - 8);
  const parquetCases: [SuiteFormat, Buffer, string][] = [
    ...PARQUET_FORMATS.map((format): [SuiteFormat, Buffer, string] => {
      const intact = parquetFamily(format, 'x', 'ok').bytes;
      return [format, intact.subarray(0, intact.length - 5), 'truncated footer'];
    }),
    ['parquet', Buffer.from('{"text": "JSON in a .parquet file"}\n'), 'not Parquet'],
    ['parquet', Buffer.from('PAR1'), 'too short to be Parquet'],
    ['parquet', gzipSync(pq), 'gzip-compressed Parquet'],
    ['parquet', badLength, 'footer length past the file'],
    // The first page header of the text column starts at byte 4.
    ['parquet', Buffer.from(pq).fill(0xff, 4, 12), 'corrupt page header'],
    ['fineweb-edu', Buffer.from(parquetFamily('fineweb-edu', 'x', 'ok').bytes).fill(0xff, 4, 12), 'corrupt page header'],
  ];
  for (const [format, bytes, breakage] of parquetCases) {
    const dir = next();
    cases.push(withCompanion(`${format} ${breakage}`, format, 'file', dir, { path: `${dir}/a.parquet`, bytes }));
  }
  return cases;
}

/** Inputs no policy reads: unsupported compression, a format mix-up, a missing column, RedPajama-v2 layout and signals. */
export function inputCases(next: () => string): BadInputCase[] {
  const cases: BadInputCase[] = [];
  const record = Buffer.from('{"text":"one"}\n');
  const compressed: [string, number[]][] = [
    ['a.jsonl.xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04]],
    ['a.jsonl.bz2', [...Buffer.from('BZh91AY&SY'), 0, 0]],
    ['a.jsonl.lz4', [0x04, 0x22, 0x4d, 0x18, 0x64, 0x40]],
    ['a.zip', [0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]],
    ['a.jsonl.br', [...record]],
  ];
  for (const [name, bytes] of compressed) {
    const dir = next();
    cases.push(
      input(
        `jsonl unsupported ${name.slice(name.lastIndexOf('.') + 1)}`,
        'jsonl',
        { path: `${dir}/${name}`, bytes: Buffer.from(bytes) },
        sourceFor('jsonl', dir),
      ),
    );
  }
  let dir = next();
  cases.push(
    input(
      'text unsupported xz',
      'text',
      { path: `${dir}/book.txt.xz`, bytes: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2]) },
      sourceFor('text', dir),
    ),
  );
  dir = next();
  const pq = parquet([{ name: 'text', data: GOOD, type: 'STRING' }]);
  cases.push(input('jsonl Parquet given as JSONL', 'jsonl', { path: `${dir}/a.jsonl`, bytes: pq }, sourceFor('jsonl', dir)));
  dir = next();
  cases.push(
    input(
      'parquet no text column',
      'parquet',
      { path: `${dir}/a.parquet`, bytes: parquet([{ name: 'body', data: GOOD, type: 'STRING' }]) },
      sourceFor('parquet', dir),
    ),
  );
  dir = next();
  cases.push(
    input(
      'parquet LZO codec',
      'parquet',
      { path: `${dir}/a.parquet`, bytes: parquet([{ name: 'text', data: GOOD, type: 'STRING' }], 'LZO') },
      sourceFor('parquet', dir),
    ),
  );
  dir = next();
  const docs = gzipSync(Buffer.from(GOOD.map((t) => JSON.stringify({ raw_content: t })).join('\n') + '\n'));
  cases.push(
    input(
      'redpajama-v2 path outside the layout',
      'redpajama-v2',
      { path: `${dir}/en_head.json.gz`, bytes: docs },
      `dataset: redpajama-v2, paths: [${dir}/en_head.json.gz]`,
    ),
  );
  const filtered = (d: string) => `dataset: redpajama-v2, paths: ["${d}/documents/*/*/*.json.gz"], qualityFilters: [{ signal: rps_doc_word_count, min: 1 }]`;
  dir = next();
  cases.push(input('redpajama-v2 quality signals missing', 'redpajama-v2', { path: RPV2(dir), bytes: docs }, filtered(dir)));
  dir = next();
  const signals = gzipSync(
    Buffer.from(
      [0, 7].map((row) => JSON.stringify({ id: `2023-06/0000/en_head.json.gz/${row}`, quality_signals: { rps_doc_word_count: [[0, 5, 5]] } })).join('\n') +
        '\n',
    ),
  );
  cases.push(
    input('redpajama-v2 quality signals of another document', 'redpajama-v2', { path: RPV2(dir), bytes: docs }, filtered(dir), [
      { path: `${dir}/quality_signals/2023-06/0000/en_head.signals.json.gz`, bytes: signals },
    ]),
  );
  return cases;
}

/**
 * 0-byte files of every format, each beside a good file: an empty file where the format allows one
 * (JSON Lines, text: kind `empty`), corrupt where it does not (gzip, zstd and Parquet files always
 * hold a header or footer: a 0-byte one is a broken download; kind `file`).
 */
export function emptyCases(next: () => string): BadInputCase[] {
  return [...JSONL_FORMATS, ...PARQUET_FORMATS, ...TEXT_FORMATS].map((format) => {
    const dir = next();
    const named = JSONL_FORMATS.includes(format)
      ? jsonlFamily(format, dir, Buffer.alloc(0)).path
      : PARQUET_FORMATS.includes(format)
        ? `${dir}/a.parquet`
        : textFile(format, dir, 'empty', Buffer.alloc(0)).path;
    const kind = /\.(gz|zst|parquet)$/.test(named) ? 'file' : 'empty';
    return withCompanion(`${format} 0-byte file`, format, kind, dir, { path: named, bytes: Buffer.alloc(0) });
  });
}
