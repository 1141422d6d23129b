/**
 * Test helpers: builds of a recipe changed in code (the recipe stays where it is, so its relative
 * source paths still resolve), and the rows of a finished build.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadRecipe, manifestRecipe, type LoadedRecipe } from '../../src/config/load.ts';
import type { Recipe } from '../../src/config/schema.ts';
import { stableHash } from '../../src/core/stableJson.ts';
import type { Manifest } from '../../src/manifest/types.ts';
import { buildMix, type BuildResult } from '../../src/run/build.ts';
import { shardRows } from '../../src/shard/reader.ts';
import type { RowRecord } from '../../src/shard/schema.ts';
import { llama3Spec, tempDir } from './build.ts';

/** `recipeFile` loaded, then changed by `edit` (on a mutable copy), hashed again. */
export async function recipeVariant(recipeFile: string, edit: (recipe: Recipe) => void): Promise<LoadedRecipe> {
  const loaded = await loadRecipe(recipeFile);
  const recipe = structuredClone(loaded.recipe) as Recipe;
  edit(recipe);
  return { ...loaded, recipe, hash: stableHash(manifestRecipe(recipe)) };
}

/** Builds a variant of `recipeFile` into a new temporary directory with one worker. */
export async function buildVariant(recipeFile: string, edit: (recipe: Recipe) => void): Promise<BuildResult> {
  return buildMix({ loaded: await recipeVariant(recipeFile, edit), outDir: await tempDir(), workers: 1, tokenizerSpec: await llama3Spec() });
}

/** Every row of a finished build, with its shard's file name, in manifest order. */
export async function rowsOf(outDir: string, manifest: Manifest): Promise<{ shard: string; row: RowRecord }[]> {
  const out: { shard: string; row: RowRecord }[] = [];
  for (const shard of manifest.shards)
    for (const row of shardRows(await readFile(path.join(outDir, shard.file)), shard.file)) out.push({ shard: shard.file, row });
  return out;
}
