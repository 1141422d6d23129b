/**
 * Test helper: StarCoder-schema Parquet files. StarCoder rows cannot be shipped, so the rows are
 * the source files of installed dependencies, one package = one repository, shuffled over two files.
 */
import { mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { glob } from 'tinyglobby';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { fnv1a } from '../../src/read/datasets/starcoder.ts';

/** One StarCoder row. */
export interface StarcoderRow {
  max_stars_repo_name: string;
  max_stars_repo_path: string;
  content: string;
}

const NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));

/** Rows of four repositories (12 files each, path order), from installed packages. */
export async function repoRows(): Promise<StarcoderRow[]> {
  const rows: StarcoderRow[] = [];
  for (const pkg of ['commander', 'yaml', 'cli-progress', 'fzstd']) {
    const root = await realpath(path.join(NODE_MODULES, pkg));
    for (const rel of (await glob(['**/*.js', '**/*.md'], { cwd: root, ignore: ['node_modules/**'] })).sort().slice(0, 12)) {
      rows.push({ max_stars_repo_name: `npm/${pkg}`, max_stars_repo_path: rel, content: await readFile(path.join(root, rel), 'utf8') });
    }
  }
  return rows;
}

/** Writes `rows`, interleaved by a fixed hash and split over two files, as `<dir>/JavaScript/train-0000{0,1}-of-00002.parquet` (row groups of 7). */
export async function writeStarcoderFiles(dir: string, rows: readonly StarcoderRow[]): Promise<void> {
  const order = rows
    .map((r, i) => ({ r, k: fnv1a(`${r.max_stars_repo_path}:${i}`) }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.r);
  await mkdir(path.join(dir, 'JavaScript'), { recursive: true });
  for (const [n, part] of [order.slice(0, 20), order.slice(20)].entries()) {
    const columnData = (['max_stars_repo_name', 'max_stars_repo_path', 'content'] as const).map((name) => ({ name, data: part.map((r) => r[name]) }));
    await writeFile(path.join(dir, `JavaScript/train-0000${n}-of-00002.parquet`), Buffer.from(parquetWriteBuffer({ columnData, rowGroupSize: 7 })));
  }
}
