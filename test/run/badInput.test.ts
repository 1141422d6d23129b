import { readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { jsonlRecords } from '../../src/read/jsonl.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/config/load.ts';
import { buildMix } from '../../src/run/build.ts';
import { BudgetError, InputError } from '../../src/core/errors.ts';
import { llama3Spec, removeTempDirs, tempDir } from '../helpers/build.ts';
import { verifyBuild } from '../../src/verify/verify.ts';

afterAll(removeTempDirs);

/** Writes `files` and a one-source recipe over them into a temp dir; returns the recipe path. */
async function fixture(files: Record<string, string | Buffer>, source: string, extra = ''): Promise<string> {
  const dir = await tempDir();
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  const recipe = path.join(dir, 'recipe.yaml');
  await writeFile(recipe, `name: t\noriginalWindowTokens: 16\nrowTokens: 64\noutput: { worldSize: 1, globalBatchRows: 1 }\n${extra}sources:\n${source}`);
  return recipe;
}

const jsonlSource = (paths: string, budget = 'all') =>
  `  - { name: web, format: jsonl, paths: [${paths}], window: short, budgetTokens: ${budget}, lengthTokens: { min: 2, max: 16 } }\n`;

async function build(recipe: string) {
  const outDir = await tempDir();
  const result = await buildMix({ loaded: await loadRecipe(recipe), outDir, workers: 1, tokenizerSpec: await llama3Spec() });
  return result;
}

describe('bad records', () => {
  const lines =
    ['{"text":"Hello world!"}', '{"text": null}', '', '{"text":"ok"}\r', '{"text":', '{"body":"no text"}', '{"text":7}', '{"text":""}', '[1]'].join('\n') +
    '\n';

  it('stop the build by default with the file and line, before any shard is written', async () => {
    const recipe = await fixture({ 'a.jsonl': lines }, jsonlSource('a.jsonl'));
    const outDir = await tempDir();
    const error = await buildMix({ loaded: await loadRecipe(recipe), outDir, workers: 1, tokenizerSpec: await llama3Spec() }).catch((e) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      'a.jsonl:2: field "text" is null (source "web", reason null_text); fix the record, or set onBadRecord: skip to skip and count such records',
    );
    // Nothing but the work directory, which records the failure for `status` and a rerun.
    expect(await readdir(outDir)).toEqual(['.longmix-work']);
    expect(JSON.parse(await readFile(path.join(outDir, '.longmix-work', 'census', 'u00000.failed.json'), 'utf8')).error).toBe(error.message);
  });

  it('are skipped and counted by reason under onBadRecord: skip; blank lines and CRLF are not records', async () => {
    const recipe = await fixture({ 'a.jsonl': lines }, jsonlSource('a.jsonl'), 'onBadRecord: skip\n');
    const { manifest } = await build(recipe);
    // One reason per cause: null text, no text field, broken JSON, JSON that is not an object.
    expect(manifest.sources.web.badRecords).toEqual({ null_text: 1, missing_text: 1, malformed_json: 1, not_an_object: 1, text_not_string: 1, empty_text: 1 });
    expect(manifest.sources.web.skipped).toEqual({ blank_line: 1, empty_file: 0 });
    // "Hello world!" -> BOS 9906 1917 0 EOS (5 tokens); "ok" -> BOS 564 EOS (3 tokens)
    expect(manifest.sources.web.read).toEqual({ documents: 2, tokens: 8 });
    expect(manifest.rows).toMatchObject({ total: 1, tokens: 8, padTokens: 56 });
  });

  it('invalid UTF-8 is a located bad record', async () => {
    const bytes = Buffer.concat([Buffer.from('{"text":"ok"}\n{"text":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
    const recipe = await fixture({ 'u.jsonl': bytes }, jsonlSource('u.jsonl'));
    await expect(build(recipe)).rejects.toThrow('u.jsonl:2: line is not valid UTF-8 (source "web", reason invalid_utf8)');
  });

  it('blank lines and files without a record are counted as skipped input, never an error', async () => {
    const files = { 'a.jsonl': '{"text":"ok"}\n\n   \r\n{"text":"ok"}\n', 'b.jsonl': '', 'c.jsonl.gz': gzipSync(''), 'd.jsonl': '\n\n' };
    const { manifest } = await build(await fixture(files, jsonlSource('"*.jsonl*"')));
    expect(manifest.sources.web.read.documents).toBe(2);
    // a.jsonl: 2 blank lines; d.jsonl: 2 blank lines and no record; b.jsonl and c.jsonl.gz: no record.
    expect(manifest.sources.web.skipped).toEqual({ blank_line: 4, empty_file: 3 });
  });

  it('reads every member of a multi-member gzip file', async () => {
    const gz = Buffer.concat([gzipSync('{"text":"one"}\n'), gzipSync('{"text":"two"}\n')]);
    const { manifest } = await build(await fixture({ 'm.jsonl.gz': gz }, jsonlSource('m.jsonl.gz')));
    expect(manifest.sources.web.read.documents).toBe(2);
  });

  it('a truncated gzip file is an error naming the file', async () => {
    const gz = gzipSync('{"text":"one"}\n'.repeat(50));
    const recipe = await fixture({ 't.jsonl.gz': gz.subarray(0, gz.length - 10) }, jsonlSource('t.jsonl.gz'));
    await expect(build(recipe)).rejects.toThrow(
      `t.jsonl.gz: cannot decode gzip data at compressed byte ${gz.length - 10}, after 35 records: unexpected end of data (truncated file)`,
    );
  });

  it('a missing file or a glob that matches nothing is an error naming it', async () => {
    await expect(build(await fixture({}, jsonlSource('missing.jsonl')))).rejects.toThrow(/Source "web": cannot read input file missing\.jsonl/);
    await expect(build(await fixture({}, jsonlSource('"*.jsonl"')))).rejects.toThrow(/Source "web": pattern "\*\.jsonl" matches no file/);
  });
});

describe('more bad input', () => {
  it('a lone surrogate, a type that changes between records, and an invalid UTF-8 line are located bad records', async () => {
    const text = ['{"text":"ok \\ud800 broken"}', '{"text":"fine"}', '{"text":{"nested":1}}', '{"text":["a"]}'].join('\n') + '\n';
    const recipe = await fixture({ 'a.jsonl': text }, jsonlSource('a.jsonl'), 'onBadRecord: skip\n');
    const { manifest } = await build(recipe);
    expect(manifest.sources.web.badRecords).toEqual({ lone_surrogate: 1, text_not_string: 2 });
    expect(manifest.sources.web.read.documents).toBe(1);
    await expect(build(await fixture({ 'a.jsonl': text }, jsonlSource('a.jsonl')))).rejects.toThrow('a.jsonl:1: field "text" holds a lone UTF-16 surrogate');
  });

  it('a line longer than the reader limit is a bad record; the next line is read', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'long.jsonl');
    await writeFile(file, `{"text":"${'x'.repeat(5000)}"}\n{"text":"after"}\n`);
    const items = [];
    for await (const item of jsonlRecords('web', { relPath: 'long.jsonl', idPath: 'long.jsonl', absPath: file, sizeBytes: 0 }, undefined, 1000))
      items.push(item);
    expect(
      items.map((i) =>
        i.kind === 'bad' ? `${i.bad.where} ${i.bad.reason}` : i.kind === 'skipped' ? `${i.skipped.where} ${i.skipped.reason}` : `${i.where} ok`,
      ),
    ).toEqual(['long.jsonl:1 line_too_long', 'long.jsonl:2 ok']);
  });

  it('a truncated .zst file is an error naming the file', async () => {
    const zst = Buffer.from((await import('node:child_process')).execFileSync('zstd', ['-q', '-c'], { input: '{"text":"one"}\n'.repeat(2000) }));
    const recipe = await fixture({ 't.jsonl.zst': zst.subarray(0, zst.length - 20) }, jsonlSource('t.jsonl.zst'));
    await expect(build(recipe)).rejects.toThrow(
      `t.jsonl.zst: cannot decode zstd data at compressed byte ${zst.length - 20}, after 0 records: unexpected end of data: the frame at byte 0 is incomplete (truncated file)`,
    );
  });

  it('Parquet: a null text is a located bad record, a missing column and an unknown codec are errors naming the file', async () => {
    const columnData = (texts: (string | null)[]) => [{ name: 'text', data: texts, type: 'STRING' as const }];
    const withNull = Buffer.from(parquetWriteBuffer({ columnData: columnData(['a', null, 'b']) }));
    const parquet = (name: string, extra = '') =>
      `  - { name: edu, format: parquet, paths: [${name}], window: short, budgetTokens: all, lengthTokens: { min: 2, max: 16 }${extra} }\n`;
    await expect(build(await fixture({ 'n.parquet': withNull }, parquet('n.parquet')))).rejects.toThrow(
      'n.parquet#1: field "text" is null (source "edu", reason null_text)',
    );
    await expect(build(await fixture({ 'n.parquet': withNull }, parquet('n.parquet', ', textField: body')))).rejects.toThrow(
      'n.parquet: Parquet file has no column "body" (columns: text)',
    );
    // Invalid UTF-8 in a UTF-8-annotated (STRING) column is a located bad record, never U+FFFD.
    const badUtf8 = Buffer.from(
      parquetWriteBuffer({
        columnData: [{ name: 'text', data: [new Uint8Array([104, 105]), new Uint8Array([0x61, 0x62, 0xff, 0xfe, 0x63])], type: 'STRING' as const }],
      }),
    );
    await expect(build(await fixture({ 'u.parquet': badUtf8 }, parquet('u.parquet')))).rejects.toThrow(
      'u.parquet#1: column "text" is not valid UTF-8 (source "edu", reason invalid_utf8)',
    );
    // A file that claims the LZO codec (its pages are stored raw), which no reader here decodes.
    const lzo = Buffer.from(parquetWriteBuffer({ columnData: columnData(['a', 'b']), codec: 'LZO', compressors: { LZO: (bytes: Uint8Array) => bytes } }));
    await expect(build(await fixture({ 'l.parquet': lzo }, parquet('l.parquet')))).rejects.toThrow(
      'l.parquet: row group 0, column "text" is compressed with LZO, which the Parquet reader does not decode (supported: UNCOMPRESSED, SNAPPY, GZIP, BROTLI, ZSTD, LZ4, LZ4_RAW); rewrite the file with zstd or snappy',
    );
  });
});

describe('the output directory', () => {
  it('a failed build leaves the previous build in place, with no temporaries', async () => {
    const good = await fixture({ 'a.jsonl': '{"text":"Hello world!"}\n{"text":"ok"}\n' }, jsonlSource('a.jsonl'));
    const outDir = await tempDir();
    const run = async (recipe: string) => buildMix({ loaded: await loadRecipe(recipe), outDir, workers: 1, tokenizerSpec: await llama3Spec() });
    await run(good);
    const before = await readdir(outDir);
    const tooBig = await fixture({ 'a.jsonl': '{"text":"Hello world!"}\n{"text":"ok"}\n' }, jsonlSource('a.jsonl', '9'));
    await expect(run(tooBig)).rejects.toThrow(BudgetError);
    expect(await readdir(outDir)).toEqual(before);
    await expect(verifyBuild(outDir)).resolves.toMatchObject({ rows: 1 });
  });

  it('refuses a directory holding a manifest.json that is not longmix', async () => {
    const recipe = await fixture({ 'a.jsonl': '{"text":"ok"}\n' }, jsonlSource('a.jsonl'));
    const outDir = await tempDir();
    await writeFile(path.join(outDir, 'manifest.json'), '{"name": "someone else"}');
    await expect(buildMix({ loaded: await loadRecipe(recipe), outDir, workers: 1, tokenizerSpec: await llama3Spec() })).rejects.toThrow(
      /manifest\.json is not a longmix manifest; choose another --out directory/,
    );
  });

  it('a source that yields no document, and the same file in two sources, are errors', async () => {
    const empty = await fixture({ 'e.jsonl': '\n\n' }, jsonlSource('e.jsonl'));
    await expect(build(empty)).rejects.toThrow(
      'Source "web": no document was read from its 1 file(s); 1 of them held no record (2 blank lines); check its format or dataset, textField and paths',
    );
    const twice = await fixture({ 'a.jsonl': '{"text":"ok"}\n' }, jsonlSource('a.jsonl') + jsonlSource('a.jsonl').replace('name: web', 'name: web2'));
    await expect(build(twice)).rejects.toThrow('a.jsonl is an input of both source "web" and source "web2": its documents would be used twice');
    // A symlink to a file the source already lists.
    const linked = await fixture({ 'a.jsonl': '{"text":"ok"}\n' }, jsonlSource('a.jsonl, link.jsonl'));
    await symlink('a.jsonl', path.join(path.dirname(linked), 'link.jsonl'));
    await expect(build(linked)).rejects.toThrow('a.jsonl and link.jsonl are the same file, listed twice in source "web": its documents would be used twice');
  });
});

describe('budgets', () => {
  it('a budget above what the source holds fails, naming source, budget and availability', async () => {
    const recipe = await fixture({ 'a.jsonl': '{"text":"Hello world!"}\n{"text":"ok"}\n' }, jsonlSource('a.jsonl', '9'));
    const error = await build(recipe).catch((e) => e);
    expect(error).toBeInstanceOf(BudgetError);
    expect(error.message).toBe(
      'Budget for source "web" bucket "2-16" (2..16 tokens): planned 9 tokens, but only 8 tokens in 2 documents are available; shortfall 1 tokens. Lower the budget to 8 or set maxRepetition for "web" to 1.13.',
    );
  });
});
