/**
 * `pnpm pipeline verify` (src/cli/verifyCommand.ts): OK only once everything holds, Megatron
 * exports under any prefix, and advice after an interrupted export that works when followed
 * (the test runs it).
 */
import { execFile } from 'node:child_process';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellQuote } from '../../src/cli/verifyCommand.ts';
import { buildInTemp, removeTempDirs, tempDir } from '../helpers/build.ts';
import { cli } from '../helpers/cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const SAMPLE = path.join(ROOT, 'pipelines/sample.yaml');
const CLI = `${shellQuote(process.execPath)} --import tsx ${shellQuote(MAIN)}`;

afterAll(removeTempDirs);

/** Follows the advice of a verify error: runs each indented command, `pnpm pipeline` being this checkout's CLI. */
async function follow(stderr: string): Promise<void> {
  const commands = stderr
    .split('\n')
    .filter((line) => line.startsWith('  '))
    .map((line) => line.trim().replace(/^pnpm pipeline /, `${CLI} `));
  expect(commands.length).toBeGreaterThan(0);
  for (const command of commands) await promisify(execFile)('sh', ['-c', command], { cwd: ROOT, env: { ...process.env, CI: 'true' } });
}

let built: string;
beforeAll(async () => {
  built = (await buildInTemp(SAMPLE, 1)).outDir;
});

/** A fresh copy of the build. */
async function copy(): Promise<string> {
  const dir = await tempDir();
  await cp(built, dir, { recursive: true });
  return dir;
}

describe('verify', () => {
  it('checks a Megatron export under a custom prefix, and prints OK only when everything holds', async () => {
    const dir = await copy();
    const prefix = path.join(dir, 'megatron', 'custom');
    expect((await cli(['export', dir, '--megatron', prefix])).code).toBe(0);
    const ok = await cli(['verify', dir]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^OK ${dir}: 4 shards, 28 rows, 114,422 document tokens, 266 padding tokens; every invariant holds$`)),
      `OK exports: megatron ${prefix} hold the same 28 rows token for token`,
    ]);
    // A damaged export: no OK line at all (the shards are fine, the export is not).
    const bin = await readFile(`${prefix}.bin`);
    bin[100] ^= 1;
    await writeFile(`${prefix}.bin`, bin);
    const bad = await cli(['verify', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^longmix: InvariantError: .*custom\.bin.* row 0/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('after a killed `export --hf`, names the export and commands that write it again; following them works', async () => {
    const dir = await copy();
    const hf = path.join(dir, 'hf');
    const killed = await cli(['export', dir, '--hf', hf], { LONGMIX_FAULT: 'export:hf:data-00001-of-00004.arrow:written=kill' });
    expect(killed.code).toBe(null);
    const refused = await cli(['verify', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      `longmix: PipelineError: ${hf}: incomplete HF export: no state.json (the export did not finish); to write it again, run:\n  rm -r ${hf}\n  pnpm pipeline export ${dir} --hf ${hf}\n`,
    );
    // `export` alone refuses the half-written directory: the advice removes it first.
    expect((await cli(['export', dir, '--hf', hf])).stderr).toMatch(/expected a missing or empty directory for the HF export/);
    await follow(refused.stderr);
    const ok = await cli(['verify', dir]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`OK exports: hf ${hf} hold the same 28 rows token for token`);
  });

  it('after a Megatron export killed between its renames, names the files to remove; following it works', async () => {
    const dir = await copy();
    const prefix = path.join(dir, 'megatron', 'sample');
    const killed = await cli(['export', dir, '--megatron', prefix], { LONGMIX_FAULT: 'export:megatron:before-rename-sidecar=kill' });
    expect(killed.code).toBe(null);
    const refused = await cli(['verify', dir]);
    expect(refused.code).toBe(1);
    const files = ['bin', 'doc_lens.npy', 'doc_offsets.npy', 'idx.tmp', 'longmix.json.tmp'].map((x) => `${prefix}.${x}`);
    expect(refused.stderr).toBe(
      `longmix: PipelineError: ${prefix}: incomplete Megatron export: missing sample.idx, sample.longmix.json (the export did not finish); to write it again, run:\n  rm ${files.join(' ')}\n  pnpm pipeline export ${dir} --megatron ${prefix}\n`,
    );
    expect((await cli(['export', dir, '--megatron', prefix])).stderr).toMatch(/sample\.bin exists; choose another Megatron prefix/);
    await follow(refused.stderr);
    expect((await cli(['verify', dir])).stdout).toContain(`OK exports: megatron ${prefix} hold the same 28 rows token for token`);
  });

  it('an export the manifest lists but that is gone is named, with the command that writes it', async () => {
    const dir = await copy();
    const file = path.join(dir, 'manifest.json');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"geometry": {', '"exports": {\n    "hf": "hf"\n  },\n  "geometry": {'));
    await rm(path.join(dir, 'hf'), { recursive: true, force: true });
    const refused = await cli(['verify', dir]);
    expect(refused.stderr).toBe(
      `longmix: PipelineError: ${dir}/hf: incomplete HF export: the manifest lists it, but it is missing; to write it again, run:\n  pnpm pipeline export ${dir} --hf ${dir}/hf\n`,
    );
    await follow(refused.stderr);
    expect((await cli(['verify', dir])).code).toBe(0);
  });
});
