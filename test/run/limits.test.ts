/**
 * A build that could never finish is refused before it starts selecting, and a running build
 * answers SIGTERM and SIGINT in every stage (Slurm and Kubernetes send SIGTERM before SIGKILL).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/config/load.ts';
import { BudgetError } from '../../src/core/errors.ts';
import { buildMix } from '../../src/run/build.ts';
import { llama3Spec, removeTempDirs, tempDir } from '../helpers/build.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLE = path.join(ROOT, 'pipelines/sample.yaml');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
afterAll(removeTempDirs);

describe('absurd budgets', () => {
  it('a typo in a budget with a large maxRepetition is refused before selecting, naming the cell', async () => {
    const dir = await tempDir();
    const yaml = (await readFile(SAMPLE, 'utf8'))
      .replaceAll('../data/', `${path.join(ROOT, 'data')}/`)
      .replace(/budgetTokens: 29000\n/, 'budgetTokens: 2900000000000000\n    maxRepetition: 1000000000\n');
    expect(yaml).toContain('budgetTokens: 2900000000000000');
    await writeFile(path.join(dir, 'r.yaml'), yaml);
    const error = await buildMix({
      loaded: await loadRecipe(path.join(dir, 'r.yaml')),
      outDir: await tempDir(),
      workers: 1,
      tokenizerSpec: await llama3Spec(),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(BudgetError);
    expect(error.message).toMatch(/^The budgets imply 2,900,000,000,\d{3},\d{3} tokens, about [\d,]+ rows of 4,096 tokens, over the limit of [\d,]+ rows \(/);
    expect(error.message).toContain('edu 2-512: 2,900,000,000,000,000 tokens (maxRepetition 1000000000)');
    expect(error.message).toContain('Check budgetTokens, scale and maxRepetition for a typo');
  });
});

describe('signals', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s during the plan ends the build at once, keeping its work for a rerun', async (signal, code) => {
    const out = path.join(await tempDir(), 'out');
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'build-mix', '--out', out, '--workers', '1'], {
      cwd: ROOT,
      env: { ...process.env, CI: 'true', LONGMIX_FAULT: 'plan:plan:start=sleep:30000' },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    const running = path.join(out, '.longmix-work', 'plan', 'plan.running.json');
    for (let i = 0; i < 200 && !existsSync(running); i++) await sleep(100);
    expect(existsSync(running), 'the plan never started').toBe(true);
    const sent = Date.now();
    child.kill(signal);
    expect(await exited).toBe(code);
    // Well before the stalled plan would have ended (30 s).
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(stderr).toContain(
      `\nlongmix: interrupted (${signal}); the work done so far is kept in ${path.join(out, '.longmix-work')}: run the same command again to resume.`,
    );
    expect(existsSync(path.join(out, '.longmix.lock'))).toBe(false);
  });
});
