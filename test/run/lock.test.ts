import { execFile, execFileSync } from 'node:child_process';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/config/load.ts';
import { buildMix } from '../../src/run/build.ts';
import { LOCK_FILE, lockOutDir } from '../../src/manifest/lock.ts';
import { readManifest } from '../../src/manifest/write.ts';
import { verifyBuild } from '../../src/verify/verify.ts';
import { llama3Spec, removeTempDirs, tempDir } from '../helpers/build.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE = path.join(ROOT, 'pipelines/sample.yaml');
afterAll(removeTempDirs);

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const child = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child);
}

const lockOf = (pid: number, hostname = os.hostname()) => JSON.stringify({ pid, hostname, startedAt: '2026-11-29T00:00:00.000Z', token: `${pid}.1` });

describe('one build per output directory', () => {
  it('refuses a second lock while the first is held, and gives it once released', async () => {
    const dir = await tempDir();
    const first = lockOutDir(dir);
    expect(() => lockOutDir(dir)).toThrow(`Output directory ${dir} is in use by another longmix build (pid ${process.pid} on ${os.hostname()}, since `);
    first.release();
    expect(await readdir(dir)).toEqual([]);
    lockOutDir(dir).release();
  });

  it('takes over the lock of a process that is gone, never one from another host', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, LOCK_FILE), lockOf(deadPid()));
    const lock = lockOutDir(dir);
    expect(JSON.parse(await readFile(path.join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    lock.release();
    await writeFile(path.join(dir, LOCK_FILE), lockOf(deadPid(), `not-${os.hostname()}`));
    expect(() => lockOutDir(dir)).toThrow(`If no build is running there, remove ${path.join(dir, LOCK_FILE)}.`);
  });

  it('treats a file that is not a lock as live while it may be one being written, then as stale', async () => {
    const dir = await tempDir();
    const file = path.join(dir, LOCK_FILE);
    for (const garbage of ['', 'not json', '{}', '42', 'null']) {
      await writeFile(file, garbage);
      expect(() => lockOutDir(dir), garbage).toThrow(`is in use by another longmix build (lock file ${file}, not readable as a lock)`);
      const old = new Date(Date.now() - 60_000);
      await utimes(file, old, old);
      const lock = lockOutDir(dir);
      expect(JSON.parse(await readFile(file, 'utf8')).pid).toBe(process.pid);
      lock.release();
    }
  });

  it('of several processes that find the same stale lock at once, exactly one takes it', async () => {
    const script = path.join(await tempDir(), 'take.ts');
    // Each process waits for a common start time, tries the lock, and a holder keeps it until
    // 5 s after the start, long after every process has tried (a slow start would otherwise find
    // the lock already released, and rightly take it).
    await writeFile(
      script,
      `import { lockOutDir } from ${JSON.stringify(path.join(ROOT, 'src/manifest/lock.ts'))};
const [dir, start] = [process.argv[2], Number(process.argv[3])];
while (Date.now() < start) {}
try { const lock = lockOutDir(dir); console.log('GOT'); setTimeout(() => lock.release(), start + 5000 - Date.now()); } catch { console.log('REFUSED'); }
`,
    );
    for (let trial = 0; trial < 2; trial++) {
      const dir = await tempDir();
      await writeFile(path.join(dir, LOCK_FILE), lockOf(deadPid()));
      const start = String(Date.now() + 3000);
      const outputs = await Promise.all(
        Array.from({ length: 4 }, () =>
          promisify(execFile)(process.execPath, ['--import', 'tsx', script, dir, start], { cwd: ROOT }).then((r) => r.stdout.trim()),
        ),
      );
      expect(
        outputs.filter((o) => o === 'GOT'),
        `trial ${trial}: ${outputs}`,
      ).toHaveLength(1);
      expect(await readdir(dir)).toEqual([]);
    }
  });

  it("a build into a directory another process is writing fails and leaves that build's files alone; readers wait", async () => {
    const dir = await tempDir();
    // Another live process (our parent) holds the lock, mid-way through writing a shard.
    await writeFile(path.join(dir, LOCK_FILE), lockOf(process.ppid));
    await writeFile(path.join(dir, 'shard-00000.arrow.tmp'), 'partial');
    const loaded = await loadRecipe(SAMPLE);
    await expect(buildMix({ loaded, outDir: dir, workers: 1, tokenizerSpec: await llama3Spec() })).rejects.toThrow(
      `Output directory ${dir} is in use by another longmix build (pid ${process.ppid}`,
    );
    expect((await readdir(dir)).sort()).toEqual([LOCK_FILE, 'shard-00000.arrow.tmp']);
    await expect(readManifest(dir)).rejects.toThrow(`${dir} is being written by a longmix build (pid ${process.ppid}`);
  });

  it('two build-mix commands into one directory at once: never a mixed build; a refused one says why', async () => {
    const out = path.join(await tempDir(), 'out');
    const run = () =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'build-mix', '--out', out, '--workers', '1'], {
        cwd: ROOT,
        env: { ...process.env, CI: 'true' },
      }).then(
        () => ({ ok: true, stderr: '' }),
        (error: { stderr: string }) => ({ ok: false, stderr: error.stderr }),
      );
    const results = await Promise.all([run(), run()]);
    expect(results.some((r) => r.ok)).toBe(true);
    for (const r of results.filter((x) => !x.ok))
      expect(r.stderr).toContain(`longmix: PipelineError: Output directory ${out} is in use by another longmix build`);
    await verifyBuild(out);
    const manifest = await readManifest(out);
    expect((await readdir(out)).filter((n) => !n.startsWith('.')).sort()).toEqual(['manifest.json', 'report.html', ...manifest.shards.map((s) => s.file)]);
  });
});
