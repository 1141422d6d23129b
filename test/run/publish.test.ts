/**
 * Publishing with no gap, exports and report included: a rebuild killed at any step of its
 * commit leaves a directory where the manifest lists only files of its own build (verify, which
 * checks the report's mark and every export, passes), and a publication abandoned for another run
 * leaves nothing of itself behind.
 */
import { cp, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from '../helpers/build.ts';
import { cli } from '../helpers/cli.ts';

afterAll(removeTempDirs);

/** `{ relative path: bytes }` of every file under `dir`, the work directory and dot files left out. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const rel = path.relative(dir, path.join(entry.parentPath, entry.name));
    if (entry.isFile() && !rel.split(path.sep).some((part) => part.startsWith('.'))) out[rel] = (await readFile(path.join(dir, rel))).toString('base64');
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

let previous: string;
let reference: Record<string, string>;

beforeAll(async () => {
  previous = path.join(await tempDir(), 'previous');
  expect((await cli(['build-mix', '--out', previous, '--workers', '1', '--scale', '0.5', '--format', 'hf'])).code).toBe(0);
  const ref = path.join(await tempDir(), 'ref');
  expect((await cli(['build-mix', '--out', ref, '--workers', '1', '--format', 'hf'])).code).toBe(0);
  reference = await tree(ref);
});

describe('a rebuild with exports killed during its commit', () => {
  it.each([
    'commit:commit:shards-moved',
    'commit:commit:extras-withdrawn',
    'commit:commit:before-manifest',
    'commit:commit:after-manifest',
    'commit:commit:extras-moved',
  ])("at %s: verify passes on what is there (report and exports of the manifest's build only), and the rerun gives the reference bytes", async (point) => {
    const out = path.join(await tempDir(), 'out');
    await cp(previous, out, { recursive: true });
    const killed = await cli(['build-mix', '--out', out, '--workers', '1', '--format', 'hf'], { LONGMIX_FAULT: `${point}=kill` });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const verified = await cli(['verify', out]);
    expect(verified.code, `${point}: ${verified.stdout}${verified.stderr}`).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as { report?: string; exports?: object };
    // Before the switch the previous build stands whole, or without its report and exports; after it, the new one likewise.
    if (manifest.report === undefined) expect(manifest.exports, point).toBeUndefined();
    const resumed = await cli(['build-mix', '--out', out, '--workers', '1', '--format', 'hf']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await tree(out)).toEqual(reference);
    expect((await readdir(out)).filter((n) => n.startsWith('.')).sort()).toEqual(['.longmix-work']);
  });
});

describe('a publication abandoned for another run', () => {
  it.each(['commit:commit:shards-moved', 'commit:commit:after-manifest'])('at %s: the next run removes its shards, report and exports', async (point) => {
    const out = path.join(await tempDir(), 'out');
    await cp(previous, out, { recursive: true });
    const killed = await cli(['build-mix', '--out', out, '--workers', '1', '--format', 'hf'], { LONGMIX_FAULT: `${point}=kill` });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    // Another recipe (scale 0.25) with --restart discards the killed run's work directory.
    const other = await cli(['build-mix', '--out', out, '--workers', '1', '--scale', '0.25', '--restart']);
    expect(other.code, other.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as { shards: { file: string }[]; exports?: object };
    expect(manifest.exports).toBeUndefined();
    expect((await readdir(out)).sort()).toEqual(['.longmix-work', 'manifest.json', 'report.html', ...manifest.shards.map((s) => s.file)].sort());
    expect((await cli(['verify', out])).code).toBe(0);
  });

  it("a first build killed after moving its shards in resumes (its shards are its own, not a stranger's files)", async () => {
    const out = path.join(await tempDir(), 'out');
    const killed = await cli(['build-mix', '--out', out, '--workers', '1'], { LONGMIX_FAULT: 'commit:commit:shards-moved=kill' });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const resumed = await cli(['build-mix', '--out', out, '--workers', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await cli(['verify', out])).code).toBe(0);
  });
});
