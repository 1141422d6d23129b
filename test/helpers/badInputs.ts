/**
 * The bad-input suite's generated files (issue 10, "Prove it"): every input format × every
 * breakage, as bytes made here (nothing binary is committed). Each case is one broken file (plus
 * a good file where the format holds one document per file) in its own directory, and the source
 * that reads it; test/run/badInputSuite.test.ts runs them through real builds.
 *
 * Kinds of breakage:
 * - `record`: one bad record among good ones: a located error under `onBadRecord: fail`, a skip
 *   counted under its reason under `skip`;
 * - `file`: the file breaks part-way (truncated or corrupt compression, a Parquet footer or page
 *   that does not decode): a `CorruptInputError` with the file, the byte offset and the records
 *   read, whatever `onBadRecord` says (`onBadFile: skip` is the lead's to enable);
 * - `input`: the file cannot be read at all and no policy skips it (an unsupported compression,
 *   a Parquet file without the text column, a RedPajama-v2 layout or signals problem);
 * - `empty`: a 0-byte file: the skip `empty_file`, counted, under any policy.
 */
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { BadRecordReason } from '../../src/core/doc.ts';
import { LLAMA3_PATTERN } from '../../src/tokenize/llama3.ts';
import type { TiktokenSpec } from '../../src/tokenize/tokenizer.ts';

/**
 * A byte-level tokenizer (one id per byte, BOS 256, EOS 257) for builds that test reading: it
 * starts at once in every worker thread, where the real vocabularies take about half a second,
 * and the suite runs about a hundred builds. Its identity is its own (verify with it).
 */
export function byteTokenizerSpec(): TiktokenSpec {
  const ranks = Array.from({ length: 256 }, (_, b) => `${Buffer.from([b]).toString('base64')} ${b}`).join('\n') + '\n';
  return {
    kind: 'tiktoken',
    identity: {
      name: 'llama3',
      vocabSize: 258,
      bosId: 256,
      eosId: 257,
      padId: 257,
      vocabularySource: 'test: one id per byte',
      vocabularySha256: '0'.repeat(64),
    },
    ranks,
    specialTokens: { '<bos>': 256, '<eos>': 257 },
    pattern: LLAMA3_PATTERN,
  };
}

/** A source kind the suite covers: a reader format (and compression) or a dataset adapter. */
export type SuiteFormat =
  | 'jsonl'
  | 'jsonl.gz'
  | 'jsonl.zst'
  | 'redpajama-v1'
  | 'redpajama-v2'
  | 'parquet'
  | 'fineweb-edu'
  | 'starcoder'
  | 'starcoder-repositories'
  | 'text'
  | 'text.gz'
  | 'text.zst'
  | 'text-files';

/** One generated bad input. */
export interface BadInputCase {
  /** `<format> <breakage>`. */
  id: string;
  format: SuiteFormat;
  breakage: string;
  kind: 'record' | 'file' | 'input' | 'empty';
  /** Files relative to the recipe directory; `broken` is one of them. */
  files: { path: string; bytes: Buffer }[];
  broken: string;
  /** The source's YAML flow mapping without its name. */
  source: string;
  /** Record cases: the located message the build must fail with, exactly (up to its remedy). */
  located?: string;
  reason?: BadRecordReason;
  /** Documents the source reads when the build goes through (record and empty cases; file cases once onBadFile: skip applies). */
  goodDocuments: number;
  /** Record cases: bad records the source holds (default 1). */
  badRecords?: number;
}

/**
 * A zstd frame of raw (stored) blocks, as RFC 8878 §3.1 defines them: magic, a frame header
 * with a window descriptor (128 KiB) and no checksum, then blocks of at most 128 KiB.
 */
export function zstdStored(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  const max = 128 * 1024;
  for (let at = 0; at < data.length || at === 0; at += max) {
    const block = data.subarray(at, at + max);
    const last = at + max >= data.length ? 1 : 0;
    const header = (block.length << 3) | last; // Block_Type 0: raw
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), block);
    if (last) break;
  }
  return Buffer.concat(parts);
}

const parquet = (columns: { name: string; data: unknown[]; type: 'STRING' | 'INT32' }[], codec?: 'LZO') =>
  Buffer.from(
    parquetWriteBuffer({
      columnData: columns as never,
      ...(codec ? { codec, compressors: { LZO: (bytes: Uint8Array) => bytes } } : {}),
    }),
  );

const GOOD = ['a good document, the first', 'another good document'];
const RECORD_BREAKAGES = [
  'malformed_json',
  'not_an_object',
  'missing_text',
  'null_text',
  'text_not_string',
  'empty_text',
  'invalid_utf8',
  'lone_surrogate',
] as const;

/** The bytes of the bad JSON line of `breakage` for text field `field`. */
function badJsonLine(breakage: (typeof RECORD_BREAKAGES)[number], field: string): Buffer {
  switch (breakage) {
    case 'malformed_json':
      return Buffer.from(`{"${field}": "cut off`);
    case 'not_an_object':
      return Buffer.from(`["${field}", "an array"]`);
    case 'missing_text':
      return Buffer.from(`{"other": "no ${field} here"}`);
    case 'null_text':
      return Buffer.from(`{"${field}": null}`);
    case 'text_not_string':
      return Buffer.from(`{"${field}": 42}`);
    case 'empty_text':
      return Buffer.from(`{"${field}": ""}`);
    case 'invalid_utf8':
      return Buffer.concat([Buffer.from(`{"${field}": "bad `), Buffer.from([0xff, 0xfe]), Buffer.from(' bytes"}')]);
    case 'lone_surrogate':
      return Buffer.from(`{"${field}": "half a \\ud800 pair"}`);
  }
}

/** The detail a bad JSON line gives (src/read/record.ts, src/read/jsonl.ts). */
function jsonDetail(breakage: (typeof RECORD_BREAKAGES)[number], field: string, line: Buffer): string {
  switch (breakage) {
    case 'malformed_json':
      try {
        JSON.parse(line.toString());
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('unreachable');
    case 'not_an_object':
      return 'expected a JSON object, got array';
    case 'missing_text':
      return `field "${field}" is missing`;
    case 'null_text':
      return `field "${field}" is null`;
    case 'text_not_string':
      return `field "${field}" is a number, expected a string`;
    case 'empty_text':
      return `field "${field}" is empty`;
    case 'invalid_utf8':
      return 'line is not valid UTF-8';
    case 'lone_surrogate':
      return `field "${field}" holds a lone UTF-16 surrogate (an escape such as \\ud800 without its pair), which has no UTF-8 form`;
  }
}

/** JSON Lines of the good documents around `bad` (line 2). */
const jsonLines = (field: string, bad: Buffer, extra: Record<string, unknown> = {}) =>
  Buffer.concat([
    Buffer.from(JSON.stringify({ [field]: GOOD[0], ...extra }) + '\n'),
    bad,
    Buffer.from('\n' + JSON.stringify({ [field]: GOOD[1], ...extra }) + '\n'),
  ]);

const RPV2 = (dir: string) => `${dir}/documents/2023-06/0000/en_head.json.gz`;

/**
 * The source over every file of case directory `dir` (globs, so that a good companion file beside
 * the broken one is read too).
 */
export function sourceFor(format: SuiteFormat, dir: string): string {
  switch (format) {
    case 'jsonl':
    case 'jsonl.gz':
    case 'jsonl.zst':
      return `format: jsonl, paths: ["${dir}/*"]`;
    case 'redpajama-v1':
      return `dataset: redpajama-v1, paths: ["${dir}/*"]`;
    case 'redpajama-v2':
      return `dataset: redpajama-v2, paths: ["${dir}/documents/*/*/*.json.gz"]`;
    case 'parquet':
      return `format: parquet, paths: ["${dir}/*.parquet"]`;
    case 'fineweb-edu':
    case 'starcoder':
      return `dataset: ${format}, paths: ["${dir}/*.parquet"]`;
    case 'starcoder-repositories':
      return `dataset: starcoder, paths: ["${dir}/*.parquet"], repositories: {}`;
    case 'text-files':
      return `dataset: text-files, paths: ["${dir}/*"]`;
    default:
      return `format: text, paths: ["${dir}/*"]`;
  }
}

/** The JSONL-family file of one case holding `lines` (named `name` where the layout allows). */
function jsonlFamily(format: SuiteFormat, dir: string, lines: Buffer, name = 'a'): { path: string; bytes: Buffer } {
  switch (format) {
    case 'jsonl':
      return { path: `${dir}/${name}.jsonl`, bytes: lines };
    case 'jsonl.gz':
      return { path: `${dir}/${name}.jsonl.gz`, bytes: gzipSync(lines) };
    case 'jsonl.zst':
      return { path: `${dir}/${name}.jsonl.zst`, bytes: zstdStored(lines) };
    case 'redpajama-v1':
      return { path: `${dir}/${name}.jsonl`, bytes: lines };
    case 'redpajama-v2':
      return { path: `${dir}/documents/2023-06/0000/en_${name === 'a' ? 'head' : 'tail'}.json.gz`, bytes: gzipSync(lines) };
    default:
      throw new Error(`not a JSONL format: ${format}`);
  }
}

const JSONL_FORMATS: SuiteFormat[] = ['jsonl', 'jsonl.gz', 'jsonl.zst', 'redpajama-v1', 'redpajama-v2'];
const fieldOf = (format: SuiteFormat) => (format === 'redpajama-v2' ? 'raw_content' : format.startsWith('starcoder') ? 'content' : 'text');
const remedy = '; fix the record, or set onBadRecord: skip to skip and count such records';
const located = (where: string, detail: string, reason: string) => `${where}: ${detail} (source "s", reason ${reason})${remedy}`;

/** Record breakages of the JSONL family (5 formats × 8 causes) and over-long lines. */
function jsonlRecordCases(next: () => string): BadInputCase[] {
  const cases: BadInputCase[] = [];
  for (const format of JSONL_FORMATS) {
    for (const breakage of RECORD_BREAKAGES) {
      const dir = next();
      const field = fieldOf(format);
      const line = badJsonLine(breakage, field);
      const extra = format === 'redpajama-v1' ? { meta: { arxiv_id: '2301.00001' } } : {};
      const file = jsonlFamily(format, dir, jsonLines(field, line, extra));
      cases.push({
        id: `${format} ${breakage}`,
        format,
        breakage,
        kind: 'record',
        files: [file],
        broken: file.path,
        source: sourceFor(format, dir),
        located: located(`${file.path}:2`, jsonDetail(breakage, field, line), breakage),
        reason: breakage,
        goodDocuments: 2,
      });
    }
  }
  for (const format of ['jsonl', 'jsonl.gz'] as const) {
    const dir = next();
    const long = Buffer.alloc(64 * 1024 * 1024 + 16, 'x'.charCodeAt(0));
    long.write('{"text":"', 0);
    long.write('"}', long.length - 2);
    const file = jsonlFamily(format, dir, jsonLines('text', long));
    cases.push({
      id: `${format} line_too_long`,
      format,
      breakage: 'line_too_long',
      kind: 'record',
      files: [file],
      broken: file.path,
      source: sourceFor(format, dir),
      located: located(`${file.path}:2`, 'line is longer than 67108864 bytes', 'line_too_long'),
      reason: 'line_too_long',
      goodDocuments: 2,
    });
  }
  return cases;
}

/** A Parquet-family file of rows good, `bad`, good (row 1 is bad), named `name`. */
function parquetFamily(format: SuiteFormat, dir: string, bad: unknown, type: 'STRING' | 'INT32' = 'STRING', name = 'a'): { path: string; bytes: Buffer } {
  const texts = type === 'INT32' ? [1, bad, 3] : [GOOD[0], bad, GOOD[1]];
  const columns: { name: string; data: unknown[]; type: 'STRING' | 'INT32' }[] = [{ name: fieldOf(format), data: texts, type }];
  if (format === 'fineweb-edu') columns.push({ name: 'id', data: [`<urn:${name}1>`, `<urn:${name}2>`, `<urn:${name}3>`], type: 'STRING' });
  if (format.startsWith('starcoder')) {
    columns.push({ name: 'max_stars_repo_name', data: [`o/${name}`, `o/${name}`, `o/${name}s`], type: 'STRING' });
    columns.push({ name: 'max_stars_repo_path', data: ['a.py', 'b.py', 'c.py'], type: 'STRING' });
  }
  return { path: `${dir}/${name}.parquet`, bytes: parquet(columns) };
}

const PARQUET_FORMATS: SuiteFormat[] = ['parquet', 'fineweb-edu', 'starcoder', 'starcoder-repositories'];

/** Record breakages of the Parquet family. */
function parquetRecordCases(next: () => string): BadInputCase[] {
  const cases: BadInputCase[] = [];
  const breakages: [BadRecordReason, unknown, (field: string) => string][] = [
    ['null_text', null, (f) => `field "${f}" is null`],
    ['empty_text', '', (f) => `field "${f}" is empty`],
    ['invalid_utf8', new Uint8Array([0x62, 0x61, 0x64, 0xff, 0xfe]), (f) => `column "${f}" is not valid UTF-8`],
  ];
  for (const format of PARQUET_FORMATS) {
    for (const [reason, value, detail] of breakages) {
      const dir = next();
      const file = parquetFamily(format, dir, value);
      // With repositories, the good row of o/a is one document and o/as another: 2 either way.
      cases.push({
        id: `${format} ${reason}`,
        format,
        breakage: reason,
        kind: 'record',
        files: [file],
        broken: file.path,
        source: sourceFor(format, dir),
        located: located(`${file.path}#1`, detail(fieldOf(format)), reason),
        reason,
        goodDocuments: 2,
      });
    }
  }
  const dir = next();
  const file = parquetFamily('parquet', dir, 2, 'INT32');
  cases.push({
    id: 'parquet text_not_string',
    format: 'parquet',
    breakage: 'text_not_string',
    kind: 'record',
    files: [file, { path: `${dir}/good.parquet`, bytes: parquet([{ name: 'text', data: [GOOD[0]], type: 'STRING' }]) }],
    broken: file.path,
    source: sourceFor('parquet', dir),
    located: located(`${file.path}#0`, 'field "text" is a number, expected a string', 'text_not_string'),
    reason: 'text_not_string',
    goodDocuments: 1,
    badRecords: 3,
  });
  return cases;
}

/** The name and bytes of a text-family file holding `text`. */
function textFile(format: SuiteFormat, dir: string, name: string, text: Buffer): { path: string; bytes: Buffer } {
  if (format === 'text.gz') return { path: `${dir}/${name}.txt.gz`, bytes: gzipSync(text) };
  if (format === 'text.zst') return { path: `${dir}/${name}.txt.zst`, bytes: zstdStored(text) };
  return { path: `${dir}/${name}.txt`, bytes: text };
}

const TEXT_FORMATS: SuiteFormat[] = ['text', 'text.gz', 'text.zst', 'text-files'];

/** Record breakages of one-document-per-file sources: invalid UTF-8, a BOM and nothing else, too long. */
function textRecordCases(next: () => string): BadInputCase[] {
  const cases: BadInputCase[] = [];
  const breakages: [BadRecordReason, Buffer, string][] = [
    ['invalid_utf8', Buffer.from([0x61, 0x20, 0xc3, 0x28, 0x62]), 'file is not valid UTF-8'],
    // A UTF-8 byte order mark alone: the decoder drops it, leaving no text.
    ['empty_text', Buffer.from([0xef, 0xbb, 0xbf]), 'file is empty'],
  ];
  for (const format of TEXT_FORMATS) {
    for (const [reason, bytes, detail] of breakages) {
      const dir = next();
      const bad = textFile(format, dir, 'bad', bytes);
      cases.push({
        id: `${format} ${reason}`,
        format,
        breakage: reason,
        kind: 'record',
        files: [bad, textFile(format, dir, 'good', Buffer.from(GOOD[0]))],
        broken: bad.path,
        source: sourceFor(format, dir),
        located: located(bad.path, detail, reason),
        reason,
        goodDocuments: 1,
      });
    }
  }
  const dir = next();
  const bad = textFile('text.gz', dir, 'huge', Buffer.alloc(64 * 1024 * 1024 + 1, 'y'.charCodeAt(0)));
  cases.push({
    id: 'text.gz text_too_long',
    format: 'text.gz',
    breakage: 'text_too_long',
    kind: 'record',
    files: [bad, textFile('text.gz', dir, 'good', Buffer.from(GOOD[0]))],
    broken: bad.path,
    source: sourceFor('text.gz', dir),
    located: located(bad.path, 'text is longer than 67108864 bytes (MAX_TEXT_BYTES)', 'text_too_long'),
    reason: 'text_too_long',
    goodDocuments: 1,
  });
  return cases;
}

/** A good file of `format` in `dir` that sorts after the broken one, and the documents it holds. */
function companion(format: SuiteFormat, dir: string): { file: { path: string; bytes: Buffer }; documents: number } {
  if (JSONL_FORMATS.includes(format)) {
    const field = fieldOf(format);
    return { file: jsonlFamily(format, dir, Buffer.from(GOOD.map((t) => JSON.stringify({ [field]: t })).join('\n') + '\n'), 'z'), documents: 2 };
  }
  if (PARQUET_FORMATS.includes(format))
    return { file: parquetFamily(format, dir, GOOD[1], 'STRING', 'z'), documents: format === 'starcoder-repositories' ? 2 : 3 };
  return { file: textFile(format, dir, 'z-good', Buffer.from(GOOD[0])), documents: 1 };
}

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
function fileCases(next: () => string): BadInputCase[] {
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
function inputCases(next: () => string): BadInputCase[] {
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

/** 0-byte files of every format, each beside a good file. */
function emptyCases(next: () => string): BadInputCase[] {
  return [...JSONL_FORMATS, ...PARQUET_FORMATS, ...TEXT_FORMATS].map((format) => {
    const dir = next();
    const named = JSONL_FORMATS.includes(format)
      ? jsonlFamily(format, dir, Buffer.alloc(0)).path
      : PARQUET_FORMATS.includes(format)
        ? `${dir}/a.parquet`
        : textFile(format, dir, 'empty', Buffer.alloc(0)).path;
    return withCompanion(`${format} 0-byte file`, format, 'empty', dir, { path: named, bytes: Buffer.alloc(0) });
  });
}

/** Every case of the suite, in a fixed order; each in its own directory `c<NN>`. */
export function badInputCases(): BadInputCase[] {
  let n = 0;
  const next = () => `c${String(n++).padStart(3, '0')}`;
  return [...jsonlRecordCases(next), ...parquetRecordCases(next), ...textRecordCases(next), ...fileCases(next), ...inputCases(next), ...emptyCases(next)];
}
