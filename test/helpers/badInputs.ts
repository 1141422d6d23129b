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
 * - `empty`: a 0-byte file of a format that allows one (JSON Lines, text): the skip `empty_file`,
 *   counted, under any policy (0-byte gzip, zstd and Parquet files are `file` cases).
 */
import type { BadRecordReason } from '../../src/core/doc.ts';
import { emptyCases, fileCases, inputCases } from './badFiles.ts';
import {
  fieldOf,
  GOOD,
  JSONL_FORMATS,
  jsonlFamily,
  parquet,
  PARQUET_FORMATS,
  parquetFamily,
  sourceFor,
  TEXT_FORMATS,
  textFile,
  type BadInputCase,
} from './badInputFormats.ts';

export { byteTokenizerSpec, zstdStored, type BadInputCase, type SuiteFormat } from './badInputFormats.ts';

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

/** Every case of the suite, in a fixed order; each in its own directory `c<NN>`. */
export function badInputCases(): BadInputCase[] {
  let n = 0;
  const next = () => `c${String(n++).padStart(3, '0')}`;
  return [...jsonlRecordCases(next), ...parquetRecordCases(next), ...textRecordCases(next), ...fileCases(next), ...inputCases(next), ...emptyCases(next)];
}
