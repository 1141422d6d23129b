/**
 * The formats of the bad-input suite (./badInputs.ts): the source kinds it covers, how each holds
 * good and bad records, the good companion file beside a broken one, the generated compressed
 * bytes (gzip by zlib, zstd as stored frames), and a byte-level tokenizer for quick builds.
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

/** A Parquet file of `columns` (hyparquet-writer; `LZO` stores pages raw under that codec's name). */
export const parquet = (columns: { name: string; data: unknown[]; type: 'STRING' | 'INT32' }[], codec?: 'LZO') =>
  Buffer.from(
    parquetWriteBuffer({
      columnData: columns as never,
      ...(codec ? { codec, compressors: { LZO: (bytes: Uint8Array) => bytes } } : {}),
    }),
  );

/** The texts of good records. */
export const GOOD = ['a good document, the first', 'another good document'];
/** The RedPajama-v2 documents path of a case directory. */
export const RPV2 = (dir: string) => `${dir}/documents/2023-06/0000/en_head.json.gz`;

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
export function jsonlFamily(format: SuiteFormat, dir: string, lines: Buffer, name = 'a'): { path: string; bytes: Buffer } {
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

/** Formats of JSON Lines records. */
export const JSONL_FORMATS: SuiteFormat[] = ['jsonl', 'jsonl.gz', 'jsonl.zst', 'redpajama-v1', 'redpajama-v2'];
/** The text field of a format's records. */
export const fieldOf = (format: SuiteFormat) => (format === 'redpajama-v2' ? 'raw_content' : format.startsWith('starcoder') ? 'content' : 'text');
/** A Parquet-family file of rows good, `bad`, good (row 1 is bad), named `name`. */
export function parquetFamily(
  format: SuiteFormat,
  dir: string,
  bad: unknown,
  type: 'STRING' | 'INT32' = 'STRING',
  name = 'a',
): { path: string; bytes: Buffer } {
  const texts = type === 'INT32' ? [1, bad, 3] : [GOOD[0], bad, GOOD[1]];
  const columns: { name: string; data: unknown[]; type: 'STRING' | 'INT32' }[] = [{ name: fieldOf(format), data: texts, type }];
  if (format === 'fineweb-edu') columns.push({ name: 'id', data: [`<urn:${name}1>`, `<urn:${name}2>`, `<urn:${name}3>`], type: 'STRING' });
  if (format.startsWith('starcoder')) {
    columns.push({ name: 'max_stars_repo_name', data: [`o/${name}`, `o/${name}`, `o/${name}s`], type: 'STRING' });
    columns.push({ name: 'max_stars_repo_path', data: ['a.py', 'b.py', 'c.py'], type: 'STRING' });
  }
  return { path: `${dir}/${name}.parquet`, bytes: parquet(columns) };
}

/** Formats of Parquet rows. */
export const PARQUET_FORMATS: SuiteFormat[] = ['parquet', 'fineweb-edu', 'starcoder', 'starcoder-repositories'];

/** The name and bytes of a text-family file holding `text`. */
export function textFile(format: SuiteFormat, dir: string, name: string, text: Buffer): { path: string; bytes: Buffer } {
  if (format === 'text.gz') return { path: `${dir}/${name}.txt.gz`, bytes: gzipSync(text) };
  if (format === 'text.zst') return { path: `${dir}/${name}.txt.zst`, bytes: zstdStored(text) };
  return { path: `${dir}/${name}.txt`, bytes: text };
}

/** Formats of one document per file. */
export const TEXT_FORMATS: SuiteFormat[] = ['text', 'text.gz', 'text.zst', 'text-files'];

/** A good file of `format` in `dir` that sorts after the broken one, and the documents it holds. */
export function companion(format: SuiteFormat, dir: string): { file: { path: string; bytes: Buffer }; documents: number } {
  if (JSONL_FORMATS.includes(format)) {
    const field = fieldOf(format);
    return { file: jsonlFamily(format, dir, Buffer.from(GOOD.map((t) => JSON.stringify({ [field]: t })).join('\n') + '\n'), 'z'), documents: 2 };
  }
  if (PARQUET_FORMATS.includes(format))
    return { file: parquetFamily(format, dir, GOOD[1], 'STRING', 'z'), documents: format === 'starcoder-repositories' ? 2 : 3 };
  return { file: textFile(format, dir, 'z-good', Buffer.from(GOOD[0])), documents: 1 };
}
