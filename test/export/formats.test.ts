import { copyFile, open, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecordBatchStreamReader } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvariantError, PipelineError } from '../../src/core/errors.ts';
import { sha256Hex } from '../../src/core/stableJson.ts';
import type { Manifest } from '../../src/manifest/types.ts';
import { shardRows } from '../../src/shard/reader.ts';
import { exportHf, exportMegatron, hfFeatures, NNSCALER_FORMAT_COLUMNS, pythonJson, readMegatronIndex, verifyExports } from '../../src/export/index.ts';
import type { RowRecord } from '../../src/shard/schema.ts';
import { buildInTemp, removeTempDirs, tempDir } from '../helpers/build.ts';

const SAMPLE = fileURLToPath(new URL('../../pipelines/sample.yaml', import.meta.url));

let buildDir: string;
let manifest: Manifest;
/** Native rows per shard, in file order. */
let nativeRows: RowRecord[][];
let hfDir: string;
let prefix: string;

beforeAll(async () => {
  ({ outDir: buildDir, manifest } = await buildInTemp(SAMPLE));
  nativeRows = [];
  for (const shard of manifest.shards) nativeRows.push([...shardRows(await readFile(path.join(buildDir, shard.file)), shard.file)]);
  hfDir = path.join(await tempDir(), 'hf');
  prefix = path.join(await tempDir(), 'megatron', 'sample');
  await exportHf(buildDir, hfDir);
  await exportMegatron(buildDir, prefix);
});
afterAll(removeTempDirs);

/** u64 little-endian, written independently of the encoder under test. */
function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

const byRowId = () => nativeRows.flat().sort((a, b) => a.rowId - b.rowId);

describe('pythonJson', () => {
  it("writes what Python's json.dumps writes", () => {
    // json.dumps({"a": [1, "é"], "b": {}, "c": None, "d": True}) and the same with indent=2.
    const value = { a: [1, 'é'], b: {}, c: null, d: true };
    expect(pythonJson(value)).toBe('{"a": [1, "\\u00e9"], "b": {}, "c": null, "d": true}');
    expect(pythonJson(value, 2)).toBe('{\n  "a": [\n    1,\n    "\\u00e9"\n  ],\n  "b": {},\n  "c": null,\n  "d": true\n}');
  });
});

describe('exportHf (datasets save_to_disk layout)', () => {
  it('writes one stream file per native shard, dataset_info.json and state.json, exactly', async () => {
    expect((await readdir(hfDir)).sort()).toEqual([
      'data-00000-of-00004.arrow',
      'data-00001-of-00004.arrow',
      'data-00002-of-00004.arrow',
      'data-00003-of-00004.arrow',
      'dataset_info.json',
      'state.json',
    ]);
    const manifestSha = sha256Hex(await readFile(path.join(buildDir, 'manifest.json')));
    // json.dump(state, indent=2, sort_keys=True) as datasets 5.0.1 writes it; no trailing newline.
    expect(await readFile(path.join(hfDir, 'state.json'), 'utf8')).toBe(`{
  "_data_files": [
    {
      "filename": "data-00000-of-00004.arrow"
    },
    {
      "filename": "data-00001-of-00004.arrow"
    },
    {
      "filename": "data-00002-of-00004.arrow"
    },
    {
      "filename": "data-00003-of-00004.arrow"
    }
  ],
  "_fingerprint": "${manifestSha.slice(0, 16)}",
  "_format_columns": null,
  "_format_kwargs": {},
  "_format_type": null,
  "_output_all_columns": false,
  "_split": null
}`);
    const infoText = await readFile(path.join(hfDir, 'dataset_info.json'), 'utf8');
    const fixed = { feature: { dtype: 'int32', _type: 'Value' }, length: 4096, _type: 'List' };
    const ints = { feature: { dtype: 'int32', _type: 'Value' }, _type: 'List' };
    const strings = { feature: { dtype: 'string', _type: 'Value' }, _type: 'List' };
    const int32 = { dtype: 'int32', _type: 'Value' };
    const features = {
      input_ids: fixed,
      position_ids: fixed,
      doc_lens: ints,
      window: { dtype: 'string', _type: 'Value' },
      num_pad: int32,
      row_id: int32,
      piece_lens: ints,
      piece_source: strings,
      piece_doc_id: strings,
      piece_start: ints,
      piece_repeat: ints,
      piece_part: ints,
      piece_parts: ints,
    };
    const info = JSON.parse(infoText);
    expect(info).toEqual({
      citation: '',
      description: `longmix build (${manifest.tool.name} ${manifest.tool.version}) of recipe "sample" (recipe hash ${manifest.recipe.hash}); manifest.json sha256 ${manifestSha}`,
      features,
      homepage: '',
      license: '',
    });
    // Same key order and layout as Python's json.dump(indent=2) (ASCII text: identical to JSON.stringify).
    expect(infoText).toBe(JSON.stringify(info, null, 2));
    expect(Object.keys(info.features)).toEqual(Object.keys(features));
    expect(hfFeatures(4096)).toEqual(features);
  });

  it('gives every file the features in its schema metadata, nullable fields, and the native rows in order', async () => {
    for (const [index, rows] of nativeRows.entries()) {
      const bytes = await readFile(path.join(hfDir, `data-0000${index}-of-00004.arrow`));
      const reader = RecordBatchStreamReader.from(bytes);
      reader.open();
      expect(reader.schema.metadata.get('huggingface')).toBe(pythonJson({ info: { features: hfFeatures(4096) } }));
      expect(
        reader.schema.metadata
          .get('huggingface')!
          .startsWith('{"info": {"features": {"input_ids": {"feature": {"dtype": "int32", "_type": "Value"}, "length": 4096, "_type": "List"}, '),
      ).toBe(true);
      expect(reader.schema.fields.map((f) => [f.name, f.nullable, String(f.type)]).slice(0, 4)).toEqual([
        ['input_ids', true, 'FixedSizeList[4096]<Int32>'],
        ['position_ids', true, 'FixedSizeList[4096]<Int32>'],
        ['doc_lens', true, 'List<Int32>'],
        ['window', true, 'Utf8'],
      ]);
      const exported = [...shardRows(bytes, 'hf')];
      expect(exported.map((r) => r.rowId)).toEqual(rows.map((r) => r.rowId));
      expect(exported.map((r) => Array.from(r.inputIds))).toEqual(rows.map((r) => Array.from(r.inputIds)));
    }
  });

  it('records format columns for nnScaler and refuses unknown columns and non-empty targets', async () => {
    const dir = path.join(await tempDir(), 'hf');
    const result = await exportHf(buildDir, dir, { formatColumns: NNSCALER_FORMAT_COLUMNS });
    expect(result.formatColumns).toEqual(['input_ids', 'position_ids']);
    expect(JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8'))._format_columns).toEqual(['input_ids', 'position_ids']);
    await expect(verifyExports(buildDir, { hfDir: dir })).resolves.toMatchObject({ hf: true });
    await expect(exportHf(buildDir, dir)).rejects.toThrow(/expected a missing or empty directory/);
    await expect(exportHf(buildDir, path.join(await tempDir(), 'x'), { formatColumns: ['input_ids', 'labels'] })).rejects.toThrow(/got "labels"/);
  });
});

describe('exportMegatron (indexed dataset)', () => {
  it('writes the .idx header, lengths, pointers and document indices of Megatron-LM', async () => {
    expect((await readdir(path.dirname(prefix))).sort()).toEqual(['sample.bin', 'sample.idx', 'sample_doc_lens.bin', 'sample_doc_lens.idx']);
    const rows = manifest.rows.total;
    expect(rows).toBe(28);
    const idx = await readFile(`${prefix}.idx`);
    // MMIDIDX\0\0, version 1, dtype int32 (4), 28 sequences, 29 document indices.
    expect(idx.subarray(0, 34).toString('hex')).toBe(
      Buffer.concat([Buffer.from('MMIDIDX\0\0', 'latin1'), u64(1), Buffer.from([4]), u64(28), u64(29)]).toString('hex'),
    );
    expect(idx.length).toBe(34 + 28 * 4 + 28 * 8 + 29 * 8);
    for (let i = 0; i < rows; i++) {
      expect(idx.readInt32LE(34 + 4 * i)).toBe(4096);
      expect(idx.readBigInt64LE(34 + 28 * 4 + 8 * i)).toBe(BigInt(i * 4096 * 4));
    }
    for (let k = 0; k <= rows; k++) expect(idx.readBigInt64LE(34 + 28 * 4 + 28 * 8 + 8 * k)).toBe(BigInt(k));
    const bin = await readFile(`${prefix}.bin`);
    expect(bin.length).toBe(28 * 4096 * 4);
    // Sequence i is the row with row_id i, padding included.
    for (const row of byRowId())
      expect(bin.subarray(row.rowId * 16384, (row.rowId + 1) * 16384).equals(Buffer.from(row.inputIds.buffer, row.inputIds.byteOffset, 16384))).toBe(true);
  });

  it('writes doc_lens as a second indexed dataset, one sequence per row in row_id order', async () => {
    const rows = byRowId();
    const index = readMegatronIndex(await readFile(`${prefix}_doc_lens.idx`), 'doc_lens.idx');
    expect(index.dtypeCode).toBe(4);
    expect(Array.from(index.sequenceLengths)).toEqual(rows.map((r) => r.docLens.length));
    expect(index.sequenceLengths.reduce((s, n) => s + n, 0)).toBe(manifest.rows.pieces);
    let pointer = 0;
    expect(Array.from(index.sequencePointers, Number)).toEqual(rows.map((r) => ((pointer += 4 * r.docLens.length), pointer - 4 * r.docLens.length)));
    expect(Array.from(index.documentIndices, Number)).toEqual(Array.from({ length: 29 }, (_, k) => k));
    const bin = await readFile(`${prefix}_doc_lens.bin`);
    expect(Array.from(new Int32Array(bin.buffer, bin.byteOffset, bin.length / 4))).toEqual(rows.flatMap((r) => r.docLens));
  });

  it('refuses to overwrite an export', async () => {
    await expect(exportMegatron(buildDir, prefix)).rejects.toThrow(PipelineError);
  });
});

describe('verifyExports', () => {
  it('passes on both exports', async () => {
    expect(await verifyExports(buildDir, { hfDir, megatronPrefix: prefix })).toEqual({ rows: 28, tokens: 28 * 4096, hf: true, megatron: true });
  });

  it('names the file and row of a corrupted token in the .bin', async () => {
    const dir = path.join(await tempDir(), 'megatron');
    const copy = path.join(dir, 'sample');
    await exportMegatron(buildDir, copy);
    const handle = await open(`${copy}.bin`, 'r+');
    const at = (5 * 4096 + 100) * 4;
    const original = Buffer.alloc(4);
    await handle.read(original, 0, 4, at);
    await handle.write(u64(original.readInt32LE() + 1).subarray(0, 4), 0, 4, at);
    await handle.close();
    const error = await verifyExports(buildDir, { megatronPrefix: copy }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvariantError);
    expect((error as Error).message).toMatch(/sample\.bin row 5 \(native shard-\d{5}-[0-9a-f]{8}\.arrow row \d\): token 100 is \d+, native input_ids has \d+/);
  });

  it('names the row of a corrupted doc_lens entry and the file of a reordered HF directory', async () => {
    const dir = path.join(await tempDir(), 'megatron');
    const copy = path.join(dir, 'sample');
    await exportMegatron(buildDir, copy);
    const docBin = await readFile(`${copy}_doc_lens.bin`);
    docBin.writeInt32LE(docBin.readInt32LE(0) - 1, 0);
    await writeFile(`${copy}_doc_lens.bin`, docBin);
    await expect(verifyExports(buildDir, { megatronPrefix: copy })).rejects.toThrow(
      /sample_doc_lens\.bin row 0 \(native shard-\d{5}-[0-9a-f]{8}\.arrow row \d\): doc_lens/,
    );

    const hf = path.join(await tempDir(), 'hf');
    await exportHf(buildDir, hf);
    await rename(path.join(hf, 'data-00000-of-00004.arrow'), path.join(hf, 'swap'));
    await rename(path.join(hf, 'data-00001-of-00004.arrow'), path.join(hf, 'data-00000-of-00004.arrow'));
    await rename(path.join(hf, 'swap'), path.join(hf, 'data-00001-of-00004.arrow'));
    await expect(verifyExports(buildDir, { hfDir: hf })).rejects.toThrow(
      /data-00000-of-00004\.arrow row 0 \(row_id \d+, native shard-00000-[0-9a-f]{8}\.arrow row 0\): input_ids\[\d+\] is \d+, expected \d+/,
    );
  });

  it('refuses to export a native shard that does not match the manifest', async () => {
    const dir = await tempDir();
    for (const name of await readdir(buildDir)) if (!name.startsWith('.')) await copyFile(path.join(buildDir, name), path.join(dir, name));
    const name = (await readdir(dir)).find((n) => n.startsWith('shard-00002-'))!;
    const shard = await readFile(path.join(dir, name));
    shard[shard.length - 100] ^= 1;
    await writeFile(path.join(dir, name), shard);
    await expect(exportMegatron(dir, path.join(dir, 'm', 'x'))).rejects.toThrow(new RegExp(`${name}: .* sha256 .*run \`pipeline verify`));
  });
});
