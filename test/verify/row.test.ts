/**
 * verify's row and tokenizer checks (src/verify/row.ts, src/verify/verify.ts) against forged
 * builds: a copy of a real build whose shard is rewritten (checksums updated, so only the new
 * checks can catch it) or whose manifest is edited.
 */
import { cp, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stableStringify } from '../../src/core/stableJson.ts';
import type { Manifest } from '../../src/manifest/types.ts';
import { shardRows } from '../../src/shard/reader.ts';
import { shardSchema, type RowRecord } from '../../src/shard/schema.ts';
import { ShardWriter } from '../../src/shard/writer.ts';
import { verifyBuild } from '../../src/verify/verify.ts';
import { buildInTemp, removeTempDirs, tempDir } from '../helpers/build.ts';
import { buildVariant } from '../helpers/variant.ts';

const SAMPLE = fileURLToPath(new URL('../../pipelines/sample.yaml', import.meta.url));
const BOS = 128000;
const EOS = 128001;

afterAll(removeTempDirs);

let built: { outDir: string; manifest: Manifest };
beforeAll(async () => {
  built = await buildInTemp(SAMPLE, 1);
});

/** A copy of `from` whose manifest is `edit`ed. */
async function withManifest(from: string, edit: (m: Record<string, any>) => void): Promise<string> {
  const dir = await tempDir();
  await cp(from, dir, { recursive: true });
  const file = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(file, 'utf8'));
  edit(manifest);
  await writeFile(file, stableStringify(manifest));
  return dir;
}

/**
 * A copy of the build whose first row with a piece that `pick` accepts is changed by `edit`;
 * the shard is written again and its size and checksum updated in the manifest.
 * @returns the directory and the shard and row_id that were changed.
 */
async function forge(pick: (row: RowRecord, p: number) => boolean, edit: (row: RowRecord, p: number, offset: number) => void) {
  const dir = await withManifest(built.outDir, () => undefined);
  const file = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(file, 'utf8'));
  for (const shard of manifest.shards) {
    const rows = [...shardRows(await readFile(path.join(dir, shard.file)), shard.file)].map((r) => ({
      ...r,
      inputIds: r.inputIds.slice(),
      positionIds: r.positionIds.slice(),
    }));
    for (const row of rows) {
      let offset = 0;
      for (let p = 0; p < row.pieceLens.length; offset += row.pieceLens[p], p++) {
        if (!pick(row, p)) continue;
        edit(row, p, offset);
        const writer = new ShardWriter(path.join(dir, `${shard.file}.tmp`), shard.file, shardSchema(4096, {}), 4096, shard.rank, { vocabSize: 128_256 });
        for (let i = 0; i < rows.length; i += 2) writer.write(rows.slice(i, i + 2));
        Object.assign(shard, await writer.close());
        await rename(path.join(dir, `${shard.file}.tmp`), path.join(dir, shard.file));
        await writeFile(file, stableStringify(manifest));
        return { dir, shard: shard.file as string, rowId: row.rowId, piece: p };
      }
    }
  }
  throw new Error('no piece to forge');
}

const whole = (row: RowRecord, p: number) => row.pieceParts[p] === 1 && row.pieceLens[p] >= 4;

describe('verify: BOS and EOS only at document boundaries', () => {
  it('the unchanged build verifies', async () => {
    await expect(verifyBuild(built.outDir)).resolves.toMatchObject({ rows: built.manifest.rows.total });
  });

  it('a whole document whose last token is not EOS', async () => {
    const { dir, shard, rowId, piece } = await forge(whole, (row, p, offset) => (row.inputIds[offset + row.pieceLens[p] - 1] = 1000));
    await expect(verifyBuild(dir)).rejects.toThrow(
      new RegExp(`^${shard} row ${rowId}: piece ${piece} \\(.*\\) ends its document but its last id is 1000, not EOS 128001$`),
    );
  });

  it('an EOS inside a piece', async () => {
    const { dir, shard, rowId, piece } = await forge(whole, (row, _p, offset) => (row.inputIds[offset + 2] = EOS));
    await expect(verifyBuild(dir)).rejects.toThrow(
      new RegExp(`^${shard} row ${rowId}: piece ${piece} \\(.*\\) holds EOS 128001 at input_ids\\[\\d+\\], inside the document$`),
    );
  });

  it('a BOS inside a piece', async () => {
    const { dir, shard, rowId, piece } = await forge(whole, (row, _p, offset) => (row.inputIds[offset + 1] = BOS));
    await expect(verifyBuild(dir)).rejects.toThrow(
      new RegExp(`^${shard} row ${rowId}: piece ${piece} \\(.*\\) holds BOS 128000 at input_ids\\[\\d+\\], inside the document$`),
    );
  });

  it('a split part that is not the last may not end with EOS; the last part must', async () => {
    const first = (row: RowRecord, p: number) => row.pieceParts[p] > 1 && row.piecePart[p] < row.pieceParts[p] - 1;
    const a = await forge(first, (row, p, offset) => (row.inputIds[offset + row.pieceLens[p] - 1] = EOS));
    await expect(verifyBuild(a.dir)).rejects.toThrow(/holds EOS 128001 at input_ids\[\d+\], inside the document$/);
    const last = (row: RowRecord, p: number) => row.pieceParts[p] > 1 && row.piecePart[p] === row.pieceParts[p] - 1;
    const b = await forge(last, (row, p, offset) => (row.inputIds[offset + row.pieceLens[p] - 1] = 1000));
    await expect(verifyBuild(b.dir)).rejects.toThrow(/ends its document but its last id is 1000, not EOS 128001$/);
  });
});

describe('verify: truncated documents', () => {
  it('pieces cut by longDocPolicy truncate end without EOS and are counted in the manifest', async () => {
    // books holds a document longer than a row (4,096 tokens): truncated, it ends without EOS.
    const { outDir, manifest } = await buildVariant(SAMPLE, (r) => (r.packing.longDocPolicy = 'truncate'));
    expect(manifest.rows.truncatedPieces).toBe(1);
    await expect(verifyBuild(outDir)).resolves.toMatchObject({ rows: manifest.rows.total });
    const lying = await withManifest(outDir, (m) => (m.rows.truncatedPieces = 0));
    await expect(verifyBuild(lying)).rejects.toThrow('manifest.json: truncated pieces (whole-looking pieces without EOS): shards hold 1, manifest says 0');
    // Under split, the same kind of piece (one part, a row long) must end with EOS.
    const split = await withManifest(outDir, (m) => (m.geometry.longDocPolicy = 'split'));
    await expect(verifyBuild(split)).rejects.toThrow(/ends its document but its last id is \d+, not EOS 128001$/);
  });
});

describe("verify: the manifest's tokenizer", () => {
  it('must be the tokenizer longmix builds under that name', async () => {
    for (const [key, value, message] of [
      ['eosId', 128009, 'manifest.json: tokenizer.eosId is 128009, but tokenizer "llama3" has 128001'],
      ['vocabSize', 130000, 'manifest.json: tokenizer.vocabSize is 130000, but tokenizer "llama3" has 128256'],
      [
        'vocabularySha256',
        '0'.repeat(64),
        `manifest.json: tokenizer.vocabularySha256 is "${'0'.repeat(64)}", but tokenizer "llama3" has "${built.manifest.tokenizer.vocabularySha256}"`,
      ],
      ['name', 'gpt2', 'manifest.json: tokenizer.name "gpt2" is not a tokenizer longmix knows (llama3, phi3)'],
    ] as const) {
      const dir = await withManifest(built.outDir, (m) => (m.tokenizer[key] = value));
      await expect(verifyBuild(dir), key).rejects.toThrow(message);
    }
  });
});
