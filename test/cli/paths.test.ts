/**
 * Relative command-line paths are the user's: `cd <dir> && pnpm pipeline …` resolves them from
 * <dir> (pnpm runs the script in the package root and sets INIT_CWD), and errors show the
 * absolute path tried.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { userDirectory, userPath } from '../../src/cli/paths.ts';

const ROOT = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));

describe('userDirectory', () => {
  it('is INIT_CWD only for the pipeline script run in the package root', () => {
    const script = { npm_lifecycle_event: 'pipeline', INIT_CWD: '/home/u/work' };
    expect(userDirectory(script, ROOT)).toBe('/home/u/work');
    expect(userPath('r.yaml', script, ROOT)).toBe('/home/u/work/r.yaml');
    expect(userPath('/abs/r.yaml', script, ROOT)).toBe('/abs/r.yaml');
    // Another script (pnpm test spawning the CLI), no script, or another directory: the process's own.
    expect(userDirectory({ npm_lifecycle_event: 'test', INIT_CWD: '/home/u/work' }, ROOT)).toBe(ROOT);
    expect(userDirectory({ INIT_CWD: '/home/u/work' }, ROOT)).toBe(ROOT);
    expect(userDirectory(script, '/tmp')).toBe('/tmp');
  });
});

describe('a real `pnpm pipeline` run from a subdirectory', () => {
  // Inside the package (so pnpm finds its scripts), under out/, which git ignores.
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  // The outer `pnpm test` sets INIT_CWD, which pnpm would keep: the user's shell has none.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'INIT_CWD' && !k.startsWith('npm_')));
  const pnpm = (args: string[]) =>
    promisify(execFile)('pnpm', ['-s', 'pipeline', ...args], { cwd: dir, env }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('reads --recipe and writes --lengths-out relative to that directory; a missing recipe names its absolute path', async () => {
    await mkdir(path.join(ROOT, 'out'), { recursive: true });
    dir = await mkdtemp(path.join(ROOT, 'out', 'cli-paths-'));
    const web = path.relative(dir, path.join(ROOT, 'data/sample/web/pages.jsonl'));
    await writeFile(
      path.join(dir, 'r.yaml'),
      `name: pt\noriginalWindowTokens: 512\nrowTokens: 4096\noutput: { worldSize: 1, globalBatchRows: 1 }\nsources:\n  - { name: web, format: jsonl, paths: [${web}], window: short, budgetTokens: all, lengthTokens: { min: 2, max: 512 } }\n`,
    );
    const planned = await pnpm(['plan', '--recipe', 'r.yaml', '--workers', '1', '--lengths-out', 'lengths.json']);
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain(`length census: 4 document lengths in 1 cells -> ${path.join(dir, 'lengths.json')}`);
    expect(JSON.parse(await readFile(path.join(dir, 'lengths.json'), 'utf8'))).toBeTruthy();
    expect(existsSync(path.join(ROOT, 'lengths.json'))).toBe(false);

    const missing = await pnpm(['build-mix', '--recipe', 'nope.yaml']);
    expect(missing.code).toBe(1);
    const tried = path.join(dir, 'nope.yaml');
    expect(missing.stderr).toBe(`longmix: ConfigError: Cannot read recipe ${tried}: ENOENT: no such file or directory, open '${tried}'\n`);
  }, 60_000);
});

describe('--help of build-mix and plan', () => {
  it('documents HF_ENDPOINT, HF_TOKEN, LONGMIX_CACHE and the cache location', async () => {
    for (const command of ['build-mix', 'plan']) {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), command, '--help'], { cwd: ROOT });
      expect(stdout).toContain('\nEnvironment:\n  HF_ENDPOINT    Hugging Face hub for hf:// sources (default https://huggingface.co)');
      expect(stdout).toMatch(/\n {2}HF_TOKEN {7}hub access token/);
      expect(stdout).toContain('LONGMIX_CACHE  download cache for hf:// and https:// inputs (default ~/.cache/longmix/hub)');
    }
  }, 30_000);
});
