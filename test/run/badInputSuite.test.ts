/**
 * The bad-input suite (issue 10, "Prove it"): every generated broken input (test/helpers/badInputs.ts:
 * every format × every breakage) through real builds (`buildMix`, a few through the CLI):
 *
 * - under `onBadRecord: fail` (the default), one build per file: a located error, exactly the
 *   record's `file:line`/`file#row` message, or for a broken file the reader's own
 *   CorruptInputError (file, compressed byte offset, records read), never a stack trace;
 * - under `onBadRecord: skip`, one build over all record and 0-byte cases (one source each): every
 *   bad record counted under its reason, every good document read, every 0-byte file counted as
 *   `empty_file`, and the build verifies; a broken file still stops the build (`onBadFile` absent);
 * - under `onBadFile: skip`, one build per broken file: the build goes on without the file and the
 *   manifest lists it with the reader's byte offset.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/config/load.ts';
import { CorruptInputError, InputError, PipelineError } from '../../src/core/errors.ts';
import type { Manifest } from '../../src/manifest/types.ts';
import { expandPaths } from '../../src/read/files.ts';
import { readSources } from '../../src/read/index.ts';
import { buildMix } from '../../src/run/build.ts';
import type { TokenizerSpec } from '../../src/tokenize/tokenizer.ts';
import { verifyBuild } from '../../src/verify/verify.ts';
import { badInputCases, byteTokenizerSpec, type BadInputCase } from '../helpers/badInputs.ts';
import { removeTempDirs, tempDir } from '../helpers/build.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const cases = badInputCases();
/** Builds at once: a build mostly waits for its worker thread to start. */
const CONCURRENCY = 2;

let root: string;
let spec: TokenizerSpec;

afterAll(removeTempDirs);
beforeAll(async () => {
  root = await tempDir('longmix-bad-inputs-');
  spec = byteTokenizerSpec(); // what is read does not depend on the tokenizer; this one starts at once
  for (const c of cases)
    for (const file of c.files) {
      await mkdir(path.dirname(path.join(root, file.path)), { recursive: true });
      await writeFile(path.join(root, file.path), file.bytes);
    }
});

/** Writes a recipe over `sources` (name → source mapping) into the suite's directory; returns its path. */
async function recipe(label: string, sources: [string, string][], extra = ''): Promise<string> {
  const file = path.join(root, `${label}.yaml`);
  const lines = sources.map(([name, source]) => `  - { name: ${name}, ${source}, window: short, budgetTokens: all, lengthTokens: { min: 2, max: 100000 } }`);
  await writeFile(
    file,
    `name: bad-inputs\noriginalWindowTokens: 256\nrowTokens: 256\noutput: { worldSize: 1, globalBatchRows: 1 }\n${extra}sources:\n${lines.join('\n')}\n`,
  );
  return file;
}

/** A case's one-source recipe. */
const caseRecipe = (c: BadInputCase, extra = '', label = `case-${cases.indexOf(c)}`) => recipe(label, [['s', c.source]], extra);

/** Builds `recipeFile`; resolves with the manifest or the error. */
async function build(recipeFile: string): Promise<{ manifest?: Manifest; outDir: string; error?: Error }> {
  const outDir = await tempDir();
  try {
    const { manifest } = await buildMix({ loaded: await loadRecipe(recipeFile), outDir, workers: 1, tokenizerSpec: spec });
    return { manifest, outDir };
  } catch (error) {
    return { outDir, error: error as Error };
  }
}

/** What the readers themselves throw for a case's files (read outside any build), or null. */
async function readerError(c: BadInputCase): Promise<Error | null> {
  const config = (await loadRecipe(await caseRecipe(c, '', `reader-${cases.indexOf(c)}`))).recipe.sources[0];
  try {
    const files = await expandPaths(config.name, config.paths, root);
    for await (const _ of readSources([{ config, files, baseDir: root }]));
  } catch (error) {
    return error as Error;
  }
  return null;
}

/** Runs `work` over `items`, `CONCURRENCY` at a time, keeping the results in order. */
async function pooled<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]);
      }
    }),
  );
  return results;
}

/** The located failure every error must be: a PipelineError with one message line and no stack frame in it. */
function expectLocated(error: Error | undefined, file: string): void {
  expect(error).toBeInstanceOf(PipelineError);
  expect(error!.message).toContain(file);
  expect(error!.message).not.toMatch(/\n\s+at /);
  expect(error!.message.split('\n')).toHaveLength(1);
}

describe('the generated bad inputs', () => {
  it('cover every format with every breakage: at least 40 files', () => {
    const formats = new Set(cases.map((c) => c.format));
    expect([...formats].sort()).toEqual(
      [
        'fineweb-edu',
        'jsonl',
        'jsonl.gz',
        'jsonl.zst',
        'parquet',
        'redpajama-v1',
        'redpajama-v2',
        'starcoder',
        'starcoder-repositories',
        'text',
        'text-files',
        'text.gz',
        'text.zst',
      ].sort(),
    );
    const count = (kind: BadInputCase['kind']) => cases.filter((c) => c.kind === kind).length;
    expect({ cases: cases.length, record: count('record'), file: count('file'), input: count('input'), empty: count('empty') }).toEqual({
      cases: 110,
      record: 64,
      file: 30,
      input: 12,
      empty: 4,
    });
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });
});

describe('under onBadRecord: fail, every broken input stops its build with a located error', () => {
  const failing = cases.filter((c) => c.kind !== 'empty');
  let results: { error?: Error }[];
  beforeAll(async () => {
    results = await pooled(failing, async (c) => build(await caseRecipe(c)));
  }, 600_000);

  for (const [i, c] of failing.entries()) {
    it(`${c.kind}: ${c.id}`, async () => {
      const { error } = results[i];
      expectLocated(error, c.broken);
      if (c.kind === 'record') {
        expect(error).toBeInstanceOf(InputError);
        expect(error!.message).toBe(c.located);
        return;
      }
      // The build reports exactly what the reader found: for a broken file, the offset and records read.
      const expected = await readerError(c);
      expect(expected).toBeInstanceOf(InputError);
      expect(error!.message).toContain(expected!.message);
      if (c.kind === 'file') {
        expect(expected).toBeInstanceOf(CorruptInputError);
        const corrupt = expected as CorruptInputError;
        expect(corrupt.file).toBe(c.broken);
        expect(corrupt.byteOffset).toBeGreaterThanOrEqual(0);
        expect(corrupt.byteOffset).toBeLessThanOrEqual(c.files[0].bytes.length);
        expect(corrupt.message.startsWith(`${c.broken}: `)).toBe(true);
      } else expect(expected).not.toBeInstanceOf(CorruptInputError);
    });
  }
});

describe('under onBadRecord: skip', () => {
  const skippable = cases.filter((c) => c.kind === 'record' || c.kind === 'empty');
  let built: { manifest?: Manifest; outDir: string; error?: Error };
  beforeAll(async () => {
    built = await build(
      await recipe(
        'skip-all',
        skippable.map((c, i) => [`s${i}`, c.source]),
        'onBadRecord: skip\n',
      ),
    );
  }, 600_000);

  it('one build reads every record and 0-byte case, one source each, and verifies', async () => {
    expect(built.error).toBeUndefined();
    await expect(verifyBuild(built.outDir, { tokenizer: spec.identity })).resolves.toMatchObject({ rows: built.manifest!.rows.total });
  });

  for (const [i, c] of skippable.entries()) {
    it(`${c.kind}: ${c.id}: ${c.kind === 'record' ? `counted as ${c.reason}` : 'counted as empty_file'}, nothing else lost`, () => {
      const account = built.manifest!.sources[`s${i}`];
      expect(account.read.documents).toBe(c.goodDocuments);
      if (c.kind === 'record') {
        expect(account.badRecords).toEqual({ [c.reason!]: c.badRecords ?? 1 });
        expect(account.skipped.empty_file).toBe(0);
      } else {
        expect(account.badRecords).toEqual({});
        expect(account.skipped.empty_file).toBe(1);
      }
    });
  }

  const files = cases.filter((c) => c.kind === 'file' || c.kind === 'input');
  const sample = [
    files.find((c) => c.id === 'jsonl.gz truncated gzip')!,
    files.find((c) => c.id === 'parquet truncated footer')!,
    files.find((c) => c.id === 'jsonl unsupported xz')!,
  ];
  for (const c of sample) {
    it(`a broken file still stops the build (onBadFile absent): ${c.id}`, async () => {
      const { error } = await build(await caseRecipe(c, 'onBadRecord: skip\n', `skip-${cases.indexOf(c)}`));
      expectLocated(error, c.broken);
      expect(error!.message).toContain((await readerError(c))!.message);
    });
  }
});

describe('through the command line: one line on stderr, exit code 1, no stack trace', () => {
  for (const id of ['jsonl.gz null_text', 'jsonl.zst zstd block of the reserved type', 'fineweb-edu corrupt page header', 'jsonl unsupported lz4']) {
    it(id, async () => {
      const c = cases.find((x) => x.id === id)!;
      const run = await promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(ROOT, 'src/cli/main.ts'),
          'build-mix',
          '--recipe',
          await caseRecipe(c, '', `cli-${cases.indexOf(c)}`),
          '--out',
          await tempDir(),
          '--workers',
          '1',
        ],
        {
          cwd: ROOT,
          env: { ...process.env, CI: 'true' },
        },
      ).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(run.code).toBe(1);
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^longmix: (InputError|CorruptInputError): .*${c.broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      if (c.kind === 'record') expect(lines[0]).toBe(`longmix: InputError: ${c.located}`);
    });
  }
});

describe('onBadFile: skip', () => {
  for (const c of cases.filter((x) => x.kind === 'file')) {
    it(`${c.id}: the build goes on without the file, counts it and lists it with its byte offset`, async () => {
      const expected = (await readerError(c)) as CorruptInputError;
      const { manifest, outDir, error } = await build(await caseRecipe(c, 'onBadFile: skip\n', `badfile-${cases.indexOf(c)}`));
      expect(error).toBeUndefined();
      expect(manifest!.sources.s.read.documents).toBeGreaterThanOrEqual(c.goodDocuments);
      const listed = JSON.stringify(manifest);
      expect(listed).toContain(c.broken);
      expect(listed).toContain(String(expected.byteOffset));
      await expect(verifyBuild(outDir, { tokenizer: spec.identity })).resolves.toMatchObject({ rows: manifest!.rows.total });
    });
  }
});
