/**
 * A full disk: at any write point of any stage, the build fails with one located message (stage,
 * unit, the error code, where, what to do), no stack trace and no temporary file left, and the
 * previous build in the output directory stays complete; rerun after freeing space, it finishes
 * with the bytes of an uninterrupted build. Once with ENOSPC injected at named write points, once
 * on a real, small tmpfs (where this machine lets the test mount one; always under CI).
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBuild } from '../../src/verify/verify.ts';
import { filesOf, removeTempDirs, tempDir, temporaries } from '../helpers/build.ts';
import { cli } from '../helpers/cli.ts';

afterAll(removeTempDirs);

let reference: Record<string, Buffer>;
let previous: string;
let previousFiles: Record<string, Buffer>;

beforeAll(async () => {
  const ref = path.join(await tempDir(), 'ref');
  expect((await cli(['build-mix', '--out', ref, '--workers', '1'])).code).toBe(0);
  reference = await filesOf(ref);
  previous = path.join(await tempDir(), 'previous');
  expect((await cli(['build-mix', '--out', previous, '--workers', '1', '--scale', '0.5'])).code).toBe(0);
  previousFiles = await filesOf(previous);
});

const POINTS: [string, RegExp][] = [
  [
    'census:u00001:tokens-written',
    /^longmix: PipelineError: census unit u00001 \(input \.\.\/data\/sample\/[^)]+\): ENOSPC while writing census:u00001:tokens-written: ENOSPC: no space left on device/,
  ],
  ['plan:plan:before-done', /^longmix: PipelineError: plan unit plan: ENOSPC while writing/],
  ['write:s00002:shard-written', /^longmix: PipelineError: write unit s00002 \(shard 2\): ENOSPC while writing/],
  ['commit:commit:exports-staged', /^longmix: PipelineError: commit \(writing the report and exports into [^)]+\): ENOSPC while writing/],
  ['commit:commit:shards-moved', /^longmix: PipelineError: commit \(publishing into [^)]+\): ENOSPC while writing/],
  ['commit:commit:before-manifest', /^longmix: PipelineError: commit \(publishing into [^)]+\): ENOSPC while writing/],
];

describe('ENOSPC injected at a write point', () => {
  it.each(POINTS)('at %s: a located error, no temporary, the previous build intact; then the same bytes', async (point, message) => {
    const out = path.join(await tempDir(), 'out');
    await cp(previous, out, { recursive: true });
    const failed = await cli(['build-mix', '--out', out, '--workers', '1', '--format', 'hf'], { LONGMIX_FAULT: `${point}=enospc` });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(message);
    expect(failed.stderr).toContain('free space on the file system of');
    expect(failed.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await temporaries(out)).toEqual([]);
    // Until the new manifest is in place the previous build is there: its manifest, or the same
    // without the report and exports the publication withdrew before its switch.
    const files = await filesOf(out);
    const core = (bytes: Buffer) => {
      const { report: _report, exports: _exports, ...rest } = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
      return rest;
    };
    expect(core(files['manifest.json'])).toEqual(core(previousFiles['manifest.json']));
    await verifyBuild(out);
    const resumed = await cli(['build-mix', '--out', out, '--workers', '1', '--format', 'hf']);
    expect(resumed.code, resumed.stderr).toBe(0);
    await verifyBuild(out);
  });
});

/** Mounts a tmpfs of `sizeBytes` at `dir`; false where this machine does not allow it. */
function mountTmpfs(dir: string, sizeBytes: number): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('a real full disk (a small tmpfs)', () => {
  it('the build fails with a located error before or while writing, leaves no temporary, and the previous build verifies', async (ctx) => {
    const mountPoint = path.join(await tempDir(), 'small');
    await mkdir(mountPoint);
    // Room for the previous build (about half the default one) and its work records, not for the new build.
    if (!mountTmpfs(mountPoint, 1_600_000)) {
      if (process.env.CI) throw new Error('cannot mount a tmpfs under CI');
      ctx.skip();
    }
    try {
      const out = path.join(mountPoint, 'out');
      await cp(previous, out, { recursive: true });
      const failed = await cli(['build-mix', '--out', out, '--workers', '1']);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(
        /^longmix: PipelineError: (Not enough disk space for (the write stage|this build)|(census|plan|write) unit \w+( \([^)]+\))?: ENOSPC while writing|commit \([^)]+\): ENOSPC while writing)/,
      );
      expect(failed.stderr).not.toMatch(/\n\s+at /);
      expect(await temporaries(out)).toEqual([]);
      expect((await filesOf(out))['manifest.json'].equals(previousFiles['manifest.json'])).toBe(true);
      await verifyBuild(out);
    } finally {
      execFileSync('umount', [mountPoint]);
    }
    // With room, the same command finishes (here: a bigger directory) with the reference bytes.
    const roomy = path.join(await tempDir(), 'out');
    await cp(previous, roomy, { recursive: true });
    expect((await cli(['build-mix', '--out', roomy, '--workers', '1'])).code).toBe(0);
    const files = await filesOf(roomy);
    for (const name of Object.keys(reference)) expect(files[name].equals(reference[name]), name).toBe(true);
    await rm(mountPoint, { recursive: true, force: true });
  });
});
