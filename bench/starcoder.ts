/**
 * `pnpm bench:starcoder [--repos N] [--files-per-repo K] [--file-kb S] [--partition-mb P]`:
 * measures the memory of StarCoder repository grouping (src/read/datasets/starcoder.ts), which
 * spills rows to hash partitions on disk and groups one partition at a time.
 *
 * It writes a synthetic StarCoder-schema Parquet file (N repositories × K files of S KiB of
 * seeded text, rows shuffled so a repository's files are scattered), then, in a fresh child
 * process (so that generating the file does not count), reads it with `repositories` grouping and
 * reports the peak RSS growth over the run and the time. The growth should follow
 * `partitionBytes`, not the content size.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { positiveInt, positiveNumber } from '../src/cli/args.ts';
import type { SourceConfig } from '../src/config/schema.ts';
import { derivedKey, shuffled, SplitMix64 } from '../src/core/rng.ts';
import { expandPaths } from '../src/read/files.ts';
import { readSources } from '../src/read/index.ts';

const opts = new Command('bench:starcoder')
  .option('--measure <dir>', '(internal) group the file in <dir> in this fresh process and print the figures')
  .option('--repos <n>', 'repositories', positiveInt, 400)
  .option('--files-per-repo <k>', 'files per repository', positiveInt, 20)
  .option('--file-kb <s>', 'KiB of text per file', positiveNumber, 8)
  .option('--partition-mb <p>', 'partitionBytes in MiB', positiveNumber, 8)
  .parse(process.argv)
  .opts<{ measure?: string; repos: number; filesPerRepo: number; fileKb: number; partitionMb: number }>();

const mib = (n: number) => (n / 1024 / 1024).toFixed(1);

/** Groups the file in `dir` and prints RSS and time. */
async function measure(dir: string): Promise<void> {
  const config = {
    name: 'starcoder',
    dataset: 'starcoder',
    paths: ['*.parquet'],
    window: 'long',
    budgetTokens: 'all',
    maxRepetition: 1,
    lengthTokens: { min: 2, max: 1_000_000 },
    repositories: { separator: '\n', partitionBytes: opts.partitionMb * 1024 * 1024 },
  } as SourceConfig;
  const files = await expandPaths('starcoder', config.paths, dir);
  const before = process.memoryUsage().rss;
  let peak = before;
  let docs = 0;
  const started = process.hrtime.bigint();
  for await (const item of readSources([{ config, files, baseDir: dir }])) {
    if (item.kind === 'doc') docs++;
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`partitionBytes  ${opts.partitionMb} MiB`);
  console.log(`documents       ${docs} (one per repository part)`);
  console.log(`RSS             ${mib(before)} MiB before, ${mib(peak)} MiB peak while grouping (+${mib(peak - before)} MiB)`);
  console.log(`time            ${seconds.toFixed(2)} s`);
}

if (opts.measure) {
  await measure(opts.measure);
} else {
  const rng = new SplitMix64(derivedKey(1, 'starcoder-bench'));
  const word = () => 'abcdefghijklmnopqrstuvwxyz'.slice(0, 3 + rng.nextBelow(8));
  const rows: { max_stars_repo_name: string; max_stars_repo_path: string; content: string }[] = [];
  for (let r = 0; r < opts.repos; r++) {
    for (let f = 0; f < opts.filesPerRepo; f++) {
      let content = '';
      while (content.length < opts.fileKb * 1024) content += `${word()} = ${word()}(${rng.nextBelow(1000)})\n`;
      rows.push({ max_stars_repo_name: `org/repo-${r}`, max_stars_repo_path: `src/file-${f}.py`, content });
    }
  }
  const order = shuffled(rows, rng);
  const contentBytes = rows.reduce((s, r) => s + r.content.length, 0);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'longmix-starcoder-bench-'));
  try {
    const columnData = (['max_stars_repo_name', 'max_stars_repo_path', 'content'] as const).map((name) => ({ name, data: order.map((r) => r[name]) }));
    await writeFile(path.join(dir, 'train-00000-of-00001.parquet'), Buffer.from(parquetWriteBuffer({ columnData, rowGroupSize: 1000 })));
    console.log('longmix bench: StarCoder repository grouping (external group-by)');
    console.log(`content         ${mib(contentBytes)} MiB in ${rows.length} files of ${opts.repos} repositories (rows shuffled)`);
    const script = fileURLToPath(import.meta.url);
    const child = spawnSync(process.execPath, ['--import', 'tsx', script, '--measure', dir, '--partition-mb', String(opts.partitionMb)], { stdio: 'inherit' });
    if (child.status !== 0) process.exitCode = child.status ?? 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
