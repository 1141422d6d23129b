/**
 * Test helpers for whole builds: temporary output directories and a shared tokenizer spec.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadRecipe } from '../../src/config/load.ts';
import { buildMix, type BuildResult } from '../../src/run/build.ts';
import { buildLlama3Spec } from '../../src/tokenize/llama3.ts';
import type { TokenizerSpec } from '../../src/tokenize/tokenizer.ts';

let spec: Promise<TokenizerSpec> | undefined;
/** The LLaMA-3 spec, built once per test file. */
export function llama3Spec(): Promise<TokenizerSpec> {
  spec ??= buildLlama3Spec();
  return spec;
}

const dirs: string[] = [];
/** A new empty temporary directory, removed by {@link removeTempDirs}. */
export async function tempDir(label = 'longmix-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), label));
  dirs.push(dir);
  return dir;
}

/** Removes every directory made by {@link tempDir}. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Builds `recipeFile` into a new temporary directory. */
export async function buildInTemp(recipeFile: string, workers = 2): Promise<BuildResult> {
  const loaded = await loadRecipe(recipeFile);
  return buildMix({ loaded, outDir: await tempDir(), workers, tokenizerSpec: await llama3Spec() });
}

/** `{ file name: bytes }` of every regular file in `dir` (not its work directory, lock or other dot files). */
export async function filesOf(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.isFile() && !entry.name.startsWith('.')) out[entry.name] = await readFile(path.join(dir, entry.name));
  }
  return out;
}
