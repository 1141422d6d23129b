import { copyFile, open, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecordBatchStreamReader } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvariantError, PipelineError } from '../../src/core/errors.ts';
import { sha256Hex, stableStringify } from '../../src/core/stableJson.ts';
import type { Manifest } from '../../src/manifest/types.ts';
import { shardRows } from '../../src/shard/reader.ts';
import {
  DEFAULT_HF_FORMAT_COLUMNS,
  decodeRow,
  encodeRow,
  exportHf,
  exportMegatron,
  hfFeatures,
  hfFileRows,
  pythonJson,
  readMegatronIndex,
  verifyExports,
} from '../../src/export/index.ts';
import type { RowRecord } from '../../src/shard/schema.ts';
import { buildInTemp, removeTempDirs, tempDir } from '../helpers/build.ts';

/** The build digest, computed here from its definition: SHA-256 of the manifest's canonical JSON without `report` and `exports`. */
function buildDigest(manifestText: string): string {
  const { report: _report, exports: _exports, ...core } = JSON.parse(manifestText) as Record<string, unknown>;
  return sha256Hex(stableStringify(core));
}

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

describe('encodeRow / decodeRow (canonical row bytes)', () => {
  it('round-trips every native row and tells rows apart', () => {
    const rows = byRowId();
    for (const row of rows)
      expect(decodeRow(encodeRow(row), 4096)).toEqual({ ...row, inputIds: Int32Array.from(row.inputIds), positionIds: Int32Array.from(row.positionIds) });
    const digests = new Set(rows.map((r) => sha256Hex(encodeRow(r))));
    expect(digests.size).toBe(rows.length);
  });
});

describe('exportHf (datasets save_to_disk layout)', () => {
  it('writes the data files, dataset_info.json (Sequence features) and state.json (default columns), exactly', async () => {
    expect((await readdir(hfDir)).sort()).toEqual([
      'data-00000-of-00004.arrow',
      'data-00001-of-00004.arrow',
      'data-00002-of-00004.arrow',
      'data-00003-of-00004.arrow',
      'dataset_info.json',
      'state.json',
    ]);
    const manifestSha = buildDigest(await readFile(path.join(buildDir, 'manifest.json'), 'utf8'));
    // json.dump(state, indent=2, sort_keys=True) as datasets writes it; no trailing newline.
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
  "_format_columns": [
    "input_ids",
    "position_ids",
    "num_pad"
  ],
  "_format_kwargs": {},
  "_format_type": null,
  "_output_all_columns": false,
  "_split": null
}`);
    // datasets 3.x's asdict of Sequence / Value (fields at their default left out, _type last).
    const fixed = { feature: { dtype: 'int32', _type: 'Value' }, length: 4096, _type: 'Sequence' };
    const ints = { feature: { dtype: 'int32', _type: 'Value' }, _type: 'Sequence' };
    const strings = { feature: { dtype: 'string', _type: 'Value' }, _type: 'Sequence' };
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
    const infoText = await readFile(path.join(hfDir, 'dataset_info.json'), 'utf8');
    const info = JSON.parse(infoText);
    expect(info).toEqual({
      citation: '',
      description: `longmix build (${manifest.tool.name} ${manifest.tool.version}) of recipe "sample" (recipe hash ${manifest.recipe.hash}); build sha256 ${manifestSha} (manifest.json without report and exports)`,
      features,
      homepage: '',
      license: '',
    });
    expect(infoText).toBe(JSON.stringify(info, null, 2));
    expect(Object.keys(info.features)).toEqual(Object.keys(features));
    expect(hfFeatures(4096)).toEqual(features);
  });

  it('holds the rows in row_id order, an even share per file, with the features in every schema', async () => {
    const rows = byRowId();
    expect(rows.map((r) => r.rowId)).toEqual([...Array(28).keys()]);
    expect([0, 1, 2, 3].map((i) => hfFileRows(i, 4, 28))).toEqual([
      [0, 7],
      [7, 14],
      [14, 21],
      [21, 28],
    ]);
    // datasets' contiguous shards of 7 rows in 4 files: 2, 2, 2, 1.
    expect([0, 1, 2, 3].map((i) => hfFileRows(i, 4, 7))).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 7],
    ]);
    for (let index = 0; index < 4; index++) {
      const bytes = await readFile(path.join(hfDir, `data-0000${index}-of-00004.arrow`));
      const reader = RecordBatchStreamReader.from(bytes);
      reader.open();
      expect(reader.schema.metadata.get('huggingface')).toBe(pythonJson({ info: { features: hfFeatures(4096) } }));
      expect(
        reader.schema.metadata
          .get('huggingface')!
          .startsWith('{"info": {"features": {"input_ids": {"feature": {"dtype": "int32", "_type": "Value"}, "length": 4096, "_type": "Sequence"}, '),
      ).toBe(true);
      expect(reader.schema.fields.map((f) => [f.name, f.nullable, String(f.type)]).slice(0, 4)).toEqual([
        ['input_ids', true, 'FixedSizeList[4096]<Int32>'],
        ['position_ids', true, 'FixedSizeList[4096]<Int32>'],
        ['doc_lens', true, 'List<Int32>'],
        ['window', true, 'Utf8'],
      ]);
      const exported = [...shardRows(bytes, 'hf')];
      const want = rows.slice(7 * index, 7 * index + 7);
      expect(exported.map((r) => r.rowId)).toEqual(want.map((r) => r.rowId));
      expect(exported.map((r) => [Array.from(r.inputIds), Array.from(r.positionIds), r.docLens, r.numPad, r.pieceDocId])).toEqual(
        want.map((r) => [Array.from(r.inputIds), Array.from(r.positionIds), r.docLens, r.numPad, r.pieceDocId]),
      );
    }
    // No scratch file is left behind.
    expect((await readdir(hfDir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('records other format columns on request and refuses unknown columns and non-empty targets', async () => {
    expect(DEFAULT_HF_FORMAT_COLUMNS).toEqual(['input_ids', 'position_ids', 'num_pad']);
    const dir = path.join(await tempDir(), 'hf');
    const result = await exportHf(buildDir, dir, { formatColumns: null });
    expect(result.formatColumns).toBeNull();
    expect(JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8'))._format_columns).toBeNull();
    await expect(verifyExports(buildDir, { hfDir: dir })).resolves.toMatchObject({ hf: true });
    await expect(exportHf(buildDir, dir)).rejects.toThrow(/expected a missing or empty directory/);
    await expect(exportHf(buildDir, path.join(await tempDir(), 'x'), { formatColumns: ['input_ids', 'labels'] })).rejects.toThrow(/got "labels"/);
  });
});

describe('exportMegatron (indexed dataset + segments)', () => {
  it('writes the .idx header, lengths, pointers and document indices of Megatron-LM (int32 for LLaMA-3)', async () => {
    expect((await readdir(path.dirname(prefix))).sort()).toEqual([
      'sample.bin',
      'sample.doc_lens.npy',
      'sample.doc_offsets.npy',
      'sample.idx',
      'sample.longmix.json',
    ]);
    // A `*.bin` glob (Megatron's usual --data-path helper) finds the tokens only.
    expect((await readdir(path.dirname(prefix))).filter((n) => n.endsWith('.bin') || n.endsWith('.idx'))).toEqual(['sample.bin', 'sample.idx']);
    const rows = manifest.rows.total;
    expect(rows).toBe(28);
    const idx = await readFile(`${prefix}.idx`);
    // MMIDIDX\0\0, version 1, dtype int32 (4: vocabulary 128,256 ≥ 65,500), 28 sequences, 29 document indices.
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

  it('writes every row’s doc_lens as .npy files numpy.load reads, and the sidecar', async () => {
    const rows = byRowId();
    const values = rows.reduce((s, r) => s + r.docLens.length, 0);
    expect(values).toBe(manifest.rows.pieces);
    // numpy.save(np.array(doc_lens, "<i4")): magic, version 1.0, header length 118, the dict, room to grow, padding to 128 bytes.
    const header = (descr: string, n: number) =>
      Buffer.concat([
        Buffer.from([0x93]),
        Buffer.from('NUMPY\x01\x00', 'latin1'),
        Buffer.from([118, 0]),
        Buffer.from(`{'descr': '${descr}', 'fortran_order': False, 'shape': (${n},), }`.padEnd(117, ' ') + '\n', 'latin1'),
      ]);
    const lens = await readFile(`${prefix}.doc_lens.npy`);
    expect(lens.subarray(0, 128).equals(header('<i4', values))).toBe(true);
    expect(Array.from(new Int32Array(lens.buffer, lens.byteOffset + 128, values))).toEqual(rows.flatMap((r) => r.docLens));
    const offsets = await readFile(`${prefix}.doc_offsets.npy`);
    expect(offsets.subarray(0, 128).equals(header('<i8', 29))).toBe(true);
    let at = 0;
    expect(Array.from(new BigInt64Array(offsets.buffer.slice(offsets.byteOffset + 128, offsets.byteOffset + 128 + 29 * 8)), Number)).toEqual([
      0,
      ...rows.map((r) => (at += r.docLens.length)),
    ]);
    const sidecar = JSON.parse(await readFile(`${prefix}.longmix.json`, 'utf8'));
    expect(sidecar).toEqual({
      files: { docLens: 'sample.doc_lens.npy', docOffsets: 'sample.doc_offsets.npy', index: 'sample.idx', tokens: 'sample.bin' },
      format: 'longmix-megatron',
      formatVersion: 2,
      longRowAttention: 'document',
      buildSha256: buildDigest(await readFile(path.join(buildDir, 'manifest.json'), 'utf8')),
      originalWindowTokens: 512,
      recipe: { hash: manifest.recipe.hash, name: 'sample' },
      rowTokens: 4096,
      rows: 28,
      schedule: { globalBatchRows: 4, steps: 7, worldSize: 2 },
      segments: values,
      tokenDtype: 'int32',
      tokenizer: { bosId: 128000, eosId: 128001, name: 'llama3', padId: 128004, vocabSize: 128256 },
    });
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
    const copy = path.join(await tempDir(), 'megatron', 'sample');
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

  it('names the row of a corrupted doc_lens entry, an edited sidecar and the file of a reordered HF directory', async () => {
    const copy = path.join(await tempDir(), 'megatron', 'sample');
    await exportMegatron(buildDir, copy);
    const lens = await readFile(`${copy}.doc_lens.npy`);
    lens.writeInt32LE(lens.readInt32LE(128) - 1, 128);
    await writeFile(`${copy}.doc_lens.npy`, lens);
    await expect(verifyExports(buildDir, { megatronPrefix: copy })).rejects.toThrow(
      /sample\.doc_lens\.npy row 0 \(native shard-\d{5}-[0-9a-f]{8}\.arrow row \d\): doc_lens/,
    );
    await writeFile(`${copy}.longmix.json`, (await readFile(`${copy}.longmix.json`, 'utf8')).replace('"globalBatchRows": 4', '"globalBatchRows": 8'));
    await expect(verifyExports(buildDir, { megatronPrefix: copy })).rejects.toThrow(/sample\.longmix\.json: differs/);

    const hf = path.join(await tempDir(), 'hf');
    await exportHf(buildDir, hf);
    await rename(path.join(hf, 'data-00000-of-00004.arrow'), path.join(hf, 'swap'));
    await rename(path.join(hf, 'data-00001-of-00004.arrow'), path.join(hf, 'data-00000-of-00004.arrow'));
    await rename(path.join(hf, 'swap'), path.join(hf, 'data-00001-of-00004.arrow'));
    await expect(verifyExports(buildDir, { hfDir: hf })).rejects.toThrow(
      /data-00000-of-00004\.arrow row 0 \(row_id 0, native shard-\d{5}-[0-9a-f]{8}\.arrow row \d\): input_ids\[\d+\] is \d+, expected \d+/,
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
    await expect(exportHf(dir, path.join(dir, 'h'))).rejects.toThrow(new RegExp(`${name}: .* sha256 .*run \`pipeline verify`));
    expect(await readdir(path.join(dir, 'h'))).toEqual([]);
  });
});

describe('exportMegatron of a Phi-3 build (vocabulary 32,064)', () => {
  it('writes uint16 tokens (DType.optimal_dtype) and verifies them', async () => {
    const { buildPhi3Spec } = await import('../../src/tokenize/phi3.ts');
    const { loadRecipe } = await import('../../src/config/load.ts');
    const { buildMix } = await import('../../src/run/build.ts');
    const work = await tempDir();
    const sampleDir = path.dirname(SAMPLE);
    const text = (await readFile(SAMPLE, 'utf8'))
      .replace('tokenizer: llama3', 'tokenizer: phi3\nscale: 0.5')
      .replaceAll('../data/', `${path.join(sampleDir, '..', 'data')}/`);
    await writeFile(path.join(work, 'phi3.yaml'), text);
    const outDir = path.join(work, 'out');
    const result = await buildMix({ loaded: await loadRecipe(path.join(work, 'phi3.yaml')), outDir, workers: 2, tokenizerSpec: await buildPhi3Spec() });
    const phiPrefix = path.join(work, 'megatron', 'phi');
    const exported = await exportMegatron(outDir, phiPrefix);
    expect(exported.tokenDtype).toBe('uint16');
    const index = readMegatronIndex(await readFile(`${phiPrefix}.idx`), 'phi.idx');
    expect(index.dtypeCode).toBe(8);
    const rows = result.manifest.rows.total;
    const T = result.manifest.geometry.rowTokens;
    expect(Array.from(index.sequencePointers, Number)).toEqual(Array.from({ length: rows }, (_, i) => i * T * 2));
    const bin = await readFile(`${phiPrefix}.bin`);
    expect(bin.length).toBe(rows * T * 2);
    const first = [...shardRows(await readFile(path.join(outDir, result.manifest.shards[0].file)), 'phi')][0];
    const tokens = new Uint16Array(bin.buffer.slice(bin.byteOffset + first.rowId * T * 2, bin.byteOffset + (first.rowId + 1) * T * 2));
    expect(Array.from(tokens)).toEqual(Array.from(first.inputIds));
    expect(JSON.parse(await readFile(`${phiPrefix}.longmix.json`, 'utf8'))).toMatchObject({
      tokenDtype: 'uint16',
      tokenizer: { name: 'phi3', eosId: 32000, padId: 32000 },
    });
    await expect(verifyExports(outDir, { megatronPrefix: phiPrefix })).resolves.toMatchObject({ megatron: true });
  });
});
