/**
 * The Slurm executor on a real single-node cluster (scripts/slurm/cluster.sh starts one; it
 * installs Debian's slurmctld, slurmd, slurm-client and munge where they are missing): builds of
 * pipelines/shared-samples-small.yaml with 1, 3 and 5 array tasks give the bytes of a local
 * build, and a build whose census task is cancelled mid-run, then submitted again, does too.
 * Where Slurm cannot run these tests say SKIPPED, except under CI, where they fail.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAttemptRecords } from '../../src/run/records.ts';
import { verifyBuild } from '../../src/verify/verify.ts';
import { filesOf, removeTempDirs, tempDir, writeWordFiles } from '../helpers/build.ts';
import { skipWithoutSharedSamples } from '../helpers/sharedSamples.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const RECIPE = path.join(ROOT, 'pipelines/shared-samples-small.yaml');
const CLUSTER = path.join(ROOT, 'scripts/slurm/cluster.sh');

/** Whether a cluster can be started here: root and apt (to install), or Slurm already installed. */
function slurmPossible(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  return existsSync('/usr/bin/sbatch') || existsSync('/usr/bin/apt-get');
}

const skip = skipWithoutSharedSamples || (!slurmPossible() && !process.env.CI);
if (skip) console.log('SKIPPED: Slurm tests (no Slurm here and no way to install it, or no ../shared/samples); CI runs them');

let env: NodeJS.ProcessEnv = {};

function cli(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...env, CI: 'true', ...extra } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let startedHere = false;
afterAll(async () => {
  // Stop the cluster only when this test started it (a developer's own stays up).
  if (startedHere) execFileSync('bash', [CLUSTER, 'stop']);
  await removeTempDirs();
});

describe.skipIf(skip)('build-mix --executor slurm on a real single-node cluster', () => {
  let reference: Record<string, Buffer>;

  beforeAll(async () => {
    try {
      execFileSync('bash', [CLUSTER, 'running']);
    } catch {
      startedHere = true;
    }
    const started = execFileSync('bash', [CLUSTER, 'start'], { encoding: 'utf8', timeout: 300_000 });
    const conf = /export SLURM_CONF=(\S+)/.exec(started)?.[1];
    if (!conf) throw new Error(`scripts/slurm/cluster.sh start printed no SLURM_CONF:\n${started}`);
    env = { ...process.env, SLURM_CONF: conf };
    const local = path.join(await tempDir(), 'local');
    const built = await cli(['build-mix', '--recipe', RECIPE, '--out', local, '--workers', '2']);
    expect(built.code, built.stderr).toBe(0);
    reference = await filesOf(local);
  }, 600_000);

  it.each([1, 3, 5])(
    'with %i task(s) gives the bytes of the local build',
    async (tasks) => {
      const out = path.join(await tempDir(), 'slurm');
      const built = await cli(['build-mix', '--recipe', RECIPE, '--out', out, '--executor', 'slurm', '--tasks', String(tasks), '--wait']);
      expect(built.code, built.stderr).toBe(0);
      const files = await filesOf(out);
      expect(Object.keys(files)).toEqual(Object.keys(reference));
      for (const name of Object.keys(reference)) expect(files[name].equals(reference[name]), name).toBe(true);
      await verifyBuild(out);
    },
    600_000,
  );

  it('a census task cancelled mid-run ends the chain; the same command submitted again finishes with the same bytes', async () => {
    const out = path.join(await tempDir(), 'slurm');
    const work = path.join(out, '.longmix-work');
    // Census unit u00002 stalls, so its task is surely running when it is cancelled.
    const submitted = await cli(['build-mix', '--recipe', RECIPE, '--out', out, '--executor', 'slurm', '--tasks', '3'], {
      LONGMIX_FAULT: 'census:u00002:start=sleep:60000',
    });
    expect(submitted.code, submitted.stderr).toBe(0);
    // The census's first wave and its controller (which would submit the plan, write and commit jobs).
    expect(submitted.stdout).toMatch(/submitted census-w0 \d+ \(3 tasks\), census-control-w0 \d+;/);
    let job: string | undefined;
    for (let i = 0; i < 120 && !job; i++) {
      job = (await readAttemptRecords(path.join(work, 'census'), 'u00002')).running?.job;
      if (!job) await sleep(500);
    }
    expect(job, 'unit u00002 never started').toMatch(/^\d+_\d+$/);
    await promisify(execFile)('scancel', [job!], { env });
    // The wave's controller runs after the wave ends (afterany), finds the unit not done, and fails:
    // nothing more is submitted. Wait until no job of this build is left.
    for (let i = 0; i < 240; i++) {
      const { stdout } = await promisify(execFile)('squeue', ['-h', '-o', '%j'], { env }).catch(() => ({ stdout: '' }));
      if (!stdout.split('\n').some((name) => name.startsWith('longmix-'))) break;
      await sleep(500);
    }
    const control = await readFile(
      path.join(
        work,
        'logs',
        (await readdir(path.join(work, 'logs'))).find((f) => f.startsWith('census-control-w0'))!,
      ),
      'utf8',
    );
    expect(control).toContain('census wave 0 did not finish: u00002');
    const status = await cli(['status', out]);
    expect(status.stdout).toMatch(/census +7 units: \d done, 0 running, 0 failed, [1-9]\d* pending/);
    expect(existsSync(path.join(out, 'manifest.json'))).toBe(false);
    const again = await cli(['build-mix', '--recipe', RECIPE, '--out', out, '--executor', 'slurm', '--tasks', '3', '--wait']);
    expect(again.code, again.stderr).toBe(0);
    const files = await filesOf(out);
    expect(Object.keys(files)).toEqual(Object.keys(reference));
    for (const name of Object.keys(reference)) expect(files[name].equals(reference[name]), name).toBe(true);
  }, 600_000);

  it('early stop in waves: the bytes of the local build, reading at most one wave past the prefix', async () => {
    const dir = await tempDir();
    await writeWordFiles(dir, 12);
    const recipe = path.join(dir, 'r.yaml');
    await writeFile(
      recipe,
      "name: es\noriginalWindowTokens: 256\nrowTokens: 1024\noutput: { worldSize: 1, globalBatchRows: 1 }\nsources:\n  - { name: web, format: jsonl, paths: ['part-*.jsonl'], window: short, budgetTokens: 3000, lengthTokens: { min: 2, max: 256 } }\n",
    );
    const local = path.join(dir, 'local');
    expect((await cli(['build-mix', '--recipe', recipe, '--out', local, '--workers', '2'])).code).toBe(0);
    const out = path.join(dir, 'slurm');
    const built = await cli(['build-mix', '--recipe', recipe, '--out', out, '--executor', 'slurm', '--tasks', '2', '--wait']);
    expect(built.code, built.stderr).toBe(0);
    const a = await filesOf(local);
    const b = await filesOf(out);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const name of Object.keys(a)) expect(b[name].equals(a[name]), name).toBe(true);
    const manifest = JSON.parse(b['manifest.json'].toString('utf8'));
    expect(manifest.sources.web.reading).toMatchObject({ units: 12, stop: 'budgets_met' });
    const used: number = manifest.sources.web.reading.used;
    // Waves of 2 units: the census read the prefix, and at most one wave (2 units) past it.
    const logs = await readdir(path.join(out, '.longmix-work', 'logs'));
    const waves = new Set(logs.filter((f) => f.startsWith('census-w')).map((f) => f.split('-')[1]));
    expect(waves.size).toBe(Math.ceil(used / 2));
    expect(waves.size * 2).toBeLessThanOrEqual(used + 2);
  }, 600_000);
});
