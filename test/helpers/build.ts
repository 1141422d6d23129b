/**
 * Test helpers for whole builds: temporary output directories and a shared tokenizer spec.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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

/** Every file or directory under `dir` whose name marks a temporary (`.tmp`), as full paths. */
export async function temporaries(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (entry.name.includes('.tmp')) out.push(path.join(entry.parentPath, entry.name));
  return out;
}

/** `{ file name: bytes }` of every regular file in `dir` (not its work directory, lock or other dot files). */
export async function filesOf(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.isFile() && !entry.name.startsWith('.')) out[entry.name] = await readFile(path.join(dir, entry.name));
  }
  return out;
}

const WORDS = ['river', 'mountain', 'city', 'forest', 'ocean', 'desert', 'valley', 'island', 'bridge', 'garden'];

/**
 * Writes `files` JSONL files `part-NN.jsonl` of 20 documents each (30..119 words of a fixed
 * vocabulary, varying by file and document) into `dir`; returns each file's texts.
 */
export async function writeWordFiles(dir: string, files: number): Promise<string[][]> {
  const texts: string[][] = [];
  for (let f = 0; f < files; f++) {
    const docs = Array.from({ length: 20 }, (_, d) =>
      Array.from({ length: 30 + ((f * 7 + d * 13) % 90) }, (_, w) => WORDS[(f + d + w) % WORDS.length]).join(' '),
    );
    texts.push(docs);
    await writeFile(path.join(dir, `part-${String(f).padStart(2, '0')}.jsonl`), docs.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  }
  return texts;
}
