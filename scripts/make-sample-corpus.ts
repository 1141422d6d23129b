/**
 * Writes the embedded sample corpus ({@link sampleCorpus}) to `data/sample/`. Run by developers
 * (`pnpm make-sample`) when the corpus changes; the output is committed, so builds and CI need
 * neither this script nor the `zstd` command it uses for `.zst` files.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { sampleCorpus } from './sampleCorpus.ts';

const root = fileURLToPath(new URL('../data/sample/', import.meta.url));
for (const file of sampleCorpus()) {
  const target = path.join(root, file.path);
  mkdirSync(path.dirname(target), { recursive: true });
  const jsonl = () => Buffer.from(file.records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  if (file.format === 'jsonl') writeFileSync(target, jsonl());
  else if (file.format === 'jsonl.gz') writeFileSync(target, gzipSync(jsonl(), { level: 9 }));
  else if (file.format === 'jsonl.zst') writeFileSync(target, execFileSync('zstd', ['-19', '-c', '-q'], { input: jsonl() }));
  else if (file.format === 'text') writeFileSync(target, String(file.records[0].text));
  else {
    const names = Object.keys(file.records[0]);
    const columnData = names.map((name) => ({ name, data: file.records.map((r) => r[name]) as never[] }));
    writeFileSync(target, Buffer.from(parquetWriteBuffer({ columnData, rowGroupSize: 8 })));
  }
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
}
