/**
 * Runs native tiktoken (Python binding, bench/native_tiktoken.py) on the LLaMA-3 ranks this
 * project builds, for `pnpm bench` and scripts/record-native-fixtures.ts.
 *
 * Python: `$LONGMIX_BENCH_PYTHON` if set, else `.venv-bench/bin/python`; when that virtualenv is
 * missing it is created with `python3 -m venv` and the pinned bench/requirements-native.txt is
 * installed from pip's configured index (the local mirror here). Where any step fails the result
 * is `{ skipped: reason }` and the caller prints the reason instead of the comparison.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TiktokenSpec } from '../src/tokenize/tokenizer.ts';
import type { AdversarialText } from '../scripts/adversarialTexts.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VENV = path.join(ROOT, '.venv-bench');

/** One input's result from native tiktoken. */
export interface NativeInput {
  chars: number;
  /** Absent when tiktoken failed on the input (`error`). */
  tokens?: number;
  /** tiktoken's failure on this input, if any. */
  error?: string;
  wallS?: number;
  cpuS?: number;
  textSha256?: string;
  idsSha256?: string;
  head?: number[];
  tail?: number[];
}

/** What bench/native_tiktoken.py answers. */
export interface NativeResult {
  tiktoken: string;
  python: string;
  inputs: Record<string, NativeInput>;
  /** Tokens and seconds over `repeat` passes; peak RSS of the encoder over the texts-loaded baseline, MiB. */
  corpus?: { tokens: number; wallS: number; cpuS: number; peakExtraMiB: number };
}

function python(): string | { skipped: string } {
  if (process.env.LONGMIX_BENCH_PYTHON) return process.env.LONGMIX_BENCH_PYTHON;
  const bin = path.join(VENV, 'bin', 'python');
  const hasTiktoken = () => existsSync(bin) && spawnSync(bin, ['-c', 'import tiktoken'], { stdio: 'ignore' }).status === 0;
  if (hasTiktoken()) return bin;
  console.error(`native tiktoken: setting up ${VENV} (pip install -r bench/requirements-native.txt)…`);
  const venv = spawnSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  if (venv.error || venv.status !== 0) return { skipped: `cannot create a virtualenv with python3 (${venv.error?.message ?? `exit ${venv.status}`})` };
  const pip = spawnSync(bin, ['-m', 'pip', 'install', '-q', '--retries', '0', '--timeout', '30', '-r', path.join(ROOT, 'bench/requirements-native.txt')], {
    stdio: 'inherit',
  });
  if (pip.status !== 0 || !hasTiktoken()) return { skipped: `pip could not install tiktoken into ${VENV} (no package index reachable?)` };
  return bin;
}

/**
 * Encodes `inputs` (and optionally `corpus`, timed over `repeat` passes) with native tiktoken.
 * @param mode - 'fixtures' (hashes and ids) or 'time' (wall and CPU seconds).
 */
export function runNativeTiktoken(
  spec: TiktokenSpec,
  mode: 'fixtures' | 'time',
  inputs: readonly AdversarialText[],
  corpus?: { texts: string[]; repeat: number },
): NativeResult | { skipped: string } {
  const bin = python();
  if (typeof bin !== 'string') return bin;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'longmix-native-'));
  try {
    const ranks = path.join(dir, 'llama3.tiktoken');
    writeFileSync(ranks, spec.ranks);
    let corpusFile: string | null = null;
    if (corpus) writeFileSync((corpusFile = path.join(dir, 'corpus.json')), JSON.stringify(corpus.texts));
    const request = { ranks, pattern: spec.pattern, mode, inputs, corpus: corpusFile, repeat: corpus?.repeat ?? 1 };
    const run = spawnSync(bin, [path.join(ROOT, 'bench/native_tiktoken.py')], {
      input: JSON.stringify(request),
      maxBuffer: 64 << 20,
      encoding: 'utf8',
      env: { ...process.env, RUST_BACKTRACE: '0' },
    });
    if (run.status !== 0) return { skipped: `bench/native_tiktoken.py failed (exit ${run.status}): ${(run.stderr ?? '').trim().split('\n').pop()}` };
    return JSON.parse(run.stdout) as NativeResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
