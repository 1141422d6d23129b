/**
 * `pnpm bench:parquet-rss [--mb N] [--value-kb K]`: peak RSS of reading a Parquet file whose one
 * row group holds N MB of text (default 200 MB in values of K KiB, default 100; snappy, 1 MiB
 * pages, as pyarrow writes), read three ways, each in a fresh process so that each peak
 * (`process.resourceUsage().maxRSS`, KiB, whole process) is its own:
 *
 * - `pages`: the reader (src/read/parquet.ts `parquetRecords`, page by page), every row decoded to a string;
 * - `row-group`: the previous reader, hyparquet `parquetReadObjects` over the whole row group;
 * - `baseline`: the same process that only loads the modules and opens the file.
 *
 * The file is written into a temporary directory (removed afterwards) by a fourth process.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteFile } from 'hyparquet-writer';
import { positiveInt } from '../src/cli/args.ts';
import { parquetRecords } from '../src/read/parquet.ts';

const SELF = fileURLToPath(import.meta.url);

/** Writes the test file: `mb` MB of text in values of `valueKb` KiB, one row group. */
function writeFile(file: string, mb: number, valueKb: number): void {
  const rows = Math.ceil((mb * 1e6) / (valueKb * 1024));
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu'];
  const texts = Array.from({ length: rows }, (_, i) => {
    let s = `document ${i}:`;
    for (let w = i; s.length < valueKb * 1024; w = (w * 1103515245 + 12345) % 2 ** 31) s += ` ${words[w % words.length]}${w % 97}`;
    return s;
  });
  parquetWriteFile({ filename: file, columnData: [{ name: 'text', data: texts, type: 'STRING' }], rowGroupSize: rows, pageSize: 1 << 20 });
}

/** Reads `file` one way; prints `{rows, chars, peakRssMiB, seconds}` as JSON. */
async function readOneWay(way: string, file: string): Promise<void> {
  const started = process.hrtime.bigint();
  let rows = 0;
  let chars = 0;
  if (way === 'pages') {
    const input = { relPath: path.basename(file), idPath: path.basename(file), absPath: file, sizeBytes: 0 };
    for await (const item of parquetRecords('bench', input, ['text'])) {
      if (item.kind !== 'record') throw new Error(`unexpected ${item.kind}`);
      rows++;
      chars += ((item.record as { text: string }).text ?? '').length;
    }
  } else if (way === 'row-group') {
    const buffer = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buffer);
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    let rowStart = 0;
    for (const rowGroup of metadata.row_groups) {
      const rowEnd = rowStart + Number(rowGroup.num_rows);
      const objects = await parquetReadObjects({
        file: buffer,
        metadata,
        columns: ['text'],
        rowStart,
        rowEnd,
        compressors,
        utf8: false,
        parsers: { stringFromBytes: (bytes: Uint8Array) => bytes },
      });
      for (const row of objects) {
        rows++;
        chars += utf8.decode(row.text as Uint8Array).length;
      }
      rowStart = rowEnd;
    }
  } else await asyncBufferFromFile(file);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ rows, chars, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), seconds: Number(seconds.toFixed(2)) }));
}

const opts = new Command('bench:parquet-rss')
  .option('--mb <n>', 'MB of text in the one row group', positiveInt, 200)
  .option('--value-kb <n>', 'KiB per value', positiveInt, 100)
  .option('--phase <phase>', '(internal) write | pages | row-group | baseline')
  .option('--file <file>', '(internal) the Parquet file')
  .parse(process.argv)
  .opts<{ mb: number; valueKb: number; phase?: string; file?: string }>();

if (opts.phase === 'write') writeFile(opts.file!, opts.mb, opts.valueKb);
else if (opts.phase) await readOneWay(opts.phase, opts.file!);
else {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'longmix-parquet-rss-'));
  try {
    const file = path.join(dir, 'one-row-group.parquet');
    const run = (phase: string) =>
      execFileSync(process.execPath, ['--import', 'tsx', SELF, '--phase', phase, '--file', file, '--mb', String(opts.mb), '--value-kb', String(opts.valueKb)], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
    run('write');
    const { size } = await import('node:fs').then((fs) => fs.statSync(file));
    console.log(`file: ${(size / 1e6).toFixed(1)} MB on disk, one row group of ${opts.mb} MB of text in ${opts.valueKb} KiB values (snappy, 1 MiB pages)`);
    for (const phase of ['baseline', 'pages', 'row-group']) console.log(`${phase.padEnd(10)} ${run(phase).trim()}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
