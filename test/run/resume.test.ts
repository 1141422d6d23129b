/**
 * Resumable builds: a build killed with SIGKILL anywhere (named fault points in every stage, and
 * at timed moments) and run again gives exactly the bytes of an uninterrupted build, leaves no
 * temporary behind, and the output directory holds a complete, verifiable build at every moment
 * (the previous one until the new manifest is in place, the new one after).
 */
import { execFile } from 'node:child_process';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SplitMix64 } from '../../src/core/rng.ts';
import { verifyBuild } from '../../src/verify/verify.ts';
import { filesOf, removeTempDirs, tempDir, temporaries } from '../helpers/build.ts';
import { cli, ROOT } from '../helpers/cli.ts';

const MAIN = path.join(ROOT, 'src/cli/main.ts');
afterAll(removeTempDirs);

let reference: Record<string, Buffer>;
let previous: string;

beforeAll(async () => {
  const ref = path.join(await tempDir(), 'ref');
  expect((await cli(['build-mix', '--out', ref, '--workers', '2'])).code).toBe(0);
  reference = await filesOf(ref);
  // Another build (half the budgets) stands in the output directory before each interrupted one.
  previous = path.join(await tempDir(), 'previous');
  expect((await cli(['build-mix', '--out', previous, '--workers', '2', '--scale', '0.5'])).code).toBe(0);
});

/** A fresh output directory holding the previous build. */
async function withPrevious(): Promise<string> {
  const out = path.join(await tempDir(), 'out');
  await cp(previous, out, { recursive: true });
  return out;
}

/** After an interruption: the directory holds a complete build, old or new; the rerun gives the reference bytes and no temporaries. */
async function resumeAndCheck(out: string, what: string): Promise<void> {
  const report = await verifyBuild(out);
  expect(report.rows, what).toBeGreaterThan(0);
  const resumed = await cli(['build-mix', '--out', out, '--workers', '2']);
  expect(resumed.code, `${what}: ${resumed.stderr}`).toBe(0);
  const files = await filesOf(out);
  expect(Object.keys(files), what).toEqual(Object.keys(reference));
  for (const name of Object.keys(reference)) expect(files[name].equals(reference[name]), `${what}: ${name}`).toBe(true);
  expect(await temporaries(out), what).toEqual([]);
  expect((await readdir(out)).filter((name) => name.startsWith('.')).sort(), what).toEqual(['.longmix-work']);
  // The work directory keeps only the run record, the commit's record and the logs.
  expect((await readdir(path.join(out, '.longmix-work'))).sort(), what).toEqual(['commit', 'run.json', 'timings.json']);
  expect(await readdir(path.join(out, '.longmix-work', 'commit')), what).toEqual(['commit.done.json']);
}

// Every stage, several moments each: before a unit starts, with its outputs half made or made but
// not recorded, and every step of the commit.
const POINTS = [
  'census:u00000:start',
  'census:u00002:tokens-written',
  'census:u00004:before-done',
  'plan:plan:start',
  'plan:plan:before-done',
  'write:s00001:start',
  'write:s00002:shard-written',
  'write:s00003:before-done',
  'commit:commit:start',
  'commit:commit:shards-moved',
  'commit:commit:extras-withdrawn',
  'commit:commit:before-manifest',
  'commit:commit:after-manifest',
  'commit:commit:extras-moved',
  'commit:commit:before-done',
];

describe('a build killed with SIGKILL and run again', () => {
  it.each(POINTS)('at %s: the same bytes, no temporary, a readable build throughout', async (point) => {
    const out = await withPrevious();
    const killed = await cli(['build-mix', '--out', out, '--workers', '2'], { LONGMIX_FAULT: `${point}=kill` });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    await resumeAndCheck(out, point);
  });

  it('at seeded random moments, twice in a row: the same bytes', async () => {
    const rng = new SplitMix64(20261201n);
    for (let trial = 0; trial < 3; trial++) {
      const out = await withPrevious();
      for (let kill = 0; kill < 2; kill++) {
        const delay = 700 + rng.nextBelow(3000);
        const killed = await cli(['build-mix', '--out', out, '--workers', '2'], {}, delay);
        if (killed.code === 0) break; // finished before the kill: nothing to resume
        await verifyBuild(out);
      }
      await resumeAndCheck(out, `trial ${trial}`);
    }
  });
});

describe('rerunning a build', () => {
  it('of a finished build is a no-op that says so', async () => {
    const out = path.join(await tempDir(), 'out');
    expect((await cli(['build-mix', '--out', out, '--workers', '1'])).code).toBe(0);
    const before = await filesOf(out);
    const again = await cli(['build-mix', '--out', out, '--workers', '1']);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(
      `longmix build-mix: ${out} already holds this build (same recipe, tokenizer, inputs and formats); nothing to do. Add --restart to build it again.`,
    );
    expect(await filesOf(out)).toEqual(before);
  });

  it('with another recipe while one is unfinished is refused, naming what changed; --restart discards the old work', async () => {
    const out = path.join(await tempDir(), 'out');
    const killed = await cli(['build-mix', '--out', out, '--workers', '1'], { LONGMIX_FAULT: 'plan:plan:start=kill' });
    expect(killed.signal).toBe('SIGKILL');
    const status = await cli(['status', out]);
    expect(status.stdout).toContain('census       7 units: 7 done, 0 running, 0 failed, 0 pending');
    expect(status.stdout).toContain('write   ? (after the plan) units');
    const other = await cli(['build-mix', '--out', out, '--workers', '1', '--scale', '0.5']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`holds an unfinished build of another run, which this one cannot resume: recipe changed ("scale")`);
    expect(other.stderr).toContain('add --restart to discard its work');
    const restarted = await cli(['build-mix', '--out', out, '--workers', '1', '--scale', '0.5', '--restart']);
    expect(restarted.code, restarted.stderr).toBe(0);
    await verifyBuild(out);
  });

  it("of an older longmix's work directory is refused with the reason, never misread; --restart discards it", async () => {
    const out = path.join(await tempDir(), 'out');
    expect((await cli(['build-mix', '--out', out, '--workers', '1'], { LONGMIX_FAULT: 'plan:plan:start=kill' })).signal).toBe('SIGKILL');
    // A work directory as longmix-run/1 left it: the run record of that format, census tables in JSON.
    const runFile = path.join(out, '.longmix-work', 'run.json');
    await writeFile(runFile, (await readFile(runFile, 'utf8')).replace('"format": "longmix-run/2"', '"format": "longmix-run/1"'));
    const refused = await cli(['build-mix', '--out', out, '--workers', '1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `${runFile}: a work directory of another longmix version (longmix-run/1; this one reads longmix-run/2), whose work it cannot reuse; add --restart to discard it, or use another --work directory`,
    );
    const restarted = await cli(['build-mix', '--out', out, '--workers', '1', '--restart']);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(JSON.parse(await readFile(runFile, 'utf8')).format).toBe('longmix-run/2');
    await verifyBuild(out);
  });

  it('after a changed input file is refused, naming the file', async () => {
    const dir = await tempDir();
    await cp(path.join(ROOT, 'data', 'sample'), path.join(dir, 'data', 'sample'), { recursive: true });
    await cp(path.join(ROOT, 'pipelines'), path.join(dir, 'pipelines'), { recursive: true });
    const recipe = path.join(dir, 'pipelines', 'sample.yaml');
    const out = path.join(dir, 'out');
    expect((await cli(['build-mix', '--recipe', recipe, '--out', out, '--workers', '1'], { LONGMIX_FAULT: 'plan:plan:start=kill' })).signal).toBe('SIGKILL');
    const papers = path.join(dir, 'data', 'sample', 'papers', 'papers.jsonl');
    await writeFile(papers, (await readFile(papers, 'utf8')) + '{"text": "one more paper"}\n');
    const refused = await cli(['build-mix', '--recipe', recipe, '--out', out, '--workers', '1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('input ../data/sample/papers/papers.jsonl changed');
  });

  it('status lists a failed unit with its error', async () => {
    const out = path.join(await tempDir(), 'out');
    const failed = await cli(['build-mix', '--out', out, '--workers', '1'], { LONGMIX_FAULT: 'census:u00003:start=enospc' });
    expect(failed.code).toBe(1);
    const status = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, 'status', out], { cwd: ROOT });
    expect(status.stdout).toMatch(/census {7}7 units: \d done, 0 running, 1 failed, \d pending/);
    expect(status.stdout).toContain('census u00003 (');
    expect(status.stdout).toContain("ENOSPC: no space left on device, write 'census:u00003:start'");
  });
});
