/**
 * A user's directories are theirs: a build writes only into a new or empty directory or one a
 * longmix build wrote, and removes only what a longmix manifest lists.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultOutDir, loadRecipe, parseRecipe } from '../../src/config/load.ts';
import { buildMix } from '../../src/run/build.ts';
import { verifyBuild } from '../../src/verify/verify.ts';
import { llama3Spec, removeTempDirs, tempDir } from '../helpers/build.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE = path.join(ROOT, 'pipelines/sample.yaml');
afterAll(removeTempDirs);

const cli = (args: string[], cwd = ROOT) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], { cwd, env: { ...process.env, CI: 'true' } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );

async function build(outDir: string) {
  return buildMix({ loaded: await loadRecipe(SAMPLE), outDir, workers: 1, tokenizerSpec: await llama3Spec() });
}

describe("a user's directories are theirs", () => {
  it('refuses a non-empty directory that holds no longmix build, and touches nothing in it', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'hf', 'mymodel'), { recursive: true });
    await writeFile(path.join(dir, 'hf', 'mymodel', 'model.safetensors'), 'weights');
    await writeFile(path.join(dir, 'shard-00000.arrow'), 'my own shard');
    await expect(build(dir)).rejects.toThrow(`Output directory ${dir} is not empty and holds no longmix build (it holds hf, shard-00000.arrow)`);
    expect(await readFile(path.join(dir, 'hf', 'mymodel', 'model.safetensors'), 'utf8')).toBe('weights');
    expect(await readFile(path.join(dir, 'shard-00000.arrow'), 'utf8')).toBe('my own shard');
    expect((await readdir(dir)).sort()).toEqual(['hf', 'shard-00000.arrow']);
  });

  it('a rebuild replaces only the files the previous manifest lists; a user file beside a build stays', async () => {
    const dir = await tempDir();
    await build(dir);
    await writeFile(path.join(dir, 'notes.txt'), 'mine');
    await mkdir(path.join(dir, 'hf'));
    await writeFile(path.join(dir, 'hf', 'keep.bin'), 'mine too');
    await writeFile(path.join(dir, 'shard-00099.arrow'), 'not listed');
    await build(dir);
    await verifyBuild(dir);
    expect(await readFile(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(await readFile(path.join(dir, 'hf', 'keep.bin'), 'utf8')).toBe('mine too');
    expect(await readFile(path.join(dir, 'shard-00099.arrow'), 'utf8')).toBe('not listed');
  });

  it('build-mix --format hf refuses an hf/ the previous build does not list; exports it lists are replaced', async () => {
    const out = path.join(await tempDir(), 'out');
    expect((await cli(['build-mix', '--out', out, '--workers', '1', '--format', 'hf'])).code).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.exports).toEqual({ hf: 'hf' });
    // The listed export is the build's: a rebuild replaces it.
    expect((await cli(['build-mix', '--out', out, '--workers', '1', '--format', 'hf'])).code).toBe(0);
    expect(existsSync(path.join(out, 'hf', 'state.json'))).toBe(true);
    // A build without --format removes the old export it lists (it would not match the new shards).
    expect((await cli(['build-mix', '--out', out, '--workers', '1'])).code).toBe(0);
    expect(existsSync(path.join(out, 'hf'))).toBe(false);
    // Now hf/ is the user's: --format hf must not replace it.
    await mkdir(path.join(out, 'hf'));
    await writeFile(path.join(out, 'hf', 'model.safetensors'), 'weights');
    const refused = await cli(['build-mix', '--out', out, '--workers', '1', '--format', 'hf']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${path.join(out, 'hf')} exists and is not an export of the longmix build in ${out}`);
    expect(await readFile(path.join(out, 'hf', 'model.safetensors'), 'utf8')).toBe('weights');
  });

  it('--out / is refused: the filesystem root is not empty and holds no build', async () => {
    const result = await cli(['build-mix', '--out', '/', '--workers', '1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('longmix: PipelineError: Output directory / is not empty and holds no longmix build');
    expect(existsSync('/manifest.json')).toBe(false);
  });

  it('a recipe without output.dir builds into out/<name>; a name with a path in it is refused', async () => {
    const yaml = await readFile(SAMPLE, 'utf8');
    const without = parseRecipe(yaml.replace(/\noutput:\n {2}dir: out\/sample\n/, '\noutput:\n'), 'r.yaml');
    expect(without.output.dir).toBeUndefined();
    expect(defaultOutDir({ ...without, name: 'mix-b' })).toBe(path.join('out', 'mix-b'));
    expect(() => parseRecipe(yaml.replace('name: sample', 'name: ../../escape'), 'r.yaml')).toThrow('name: expected a name of letters, digits');
    expect(() => parseRecipe(yaml.replace('name: sample', 'name: a/b'), 'r.yaml')).toThrow('name: expected a name of letters, digits');
  });
});
