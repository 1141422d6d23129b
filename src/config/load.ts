/**
 * Loads a recipe file (YAML or JSON), validates it against {@link RecipeSchema} and freezes it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../core/errors.ts';
import { stableHash } from '../core/stableJson.ts';
import { recipeCells } from './cells.ts';
import { formatZodIssues } from './issues.ts';
import { RecipeSchema, type Recipe } from './schema.ts';

/** A validated recipe plus where it came from. */
export interface LoadedRecipe {
  /** The parsed recipe, defaults filled in, deeply frozen. */
  recipe: Readonly<Recipe>;
  /** Directory that source paths are relative to (the recipe file's directory), absolute. */
  baseDir: string;
  /** The recipe file as given on the command line (for messages). */
  file: string;
  /** SHA-256 (hex) of the canonical JSON of {@link manifestRecipe}. */
  hash: string;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The output directory of a recipe when `--out` is not given: `output.dir`, else `out/<name>` (relative to the working directory). */
export function defaultOutDir(recipe: Recipe): string {
  return recipe.output.dir ?? path.join('out', recipe.name);
}

/**
 * The part of a recipe that determines the output bytes: everything but `output.dir`, which
 * only says where they go. This is what the manifest records and hashes.
 */
export function manifestRecipe(recipe: Recipe): Omit<Recipe, 'output'> & { output: Omit<Recipe['output'], 'dir'> } {
  const { dir: _dir, ...output } = recipe.output;
  return { ...recipe, output };
}

/**
 * Parses recipe text.
 * @param text - YAML or JSON.
 * @param file - name used in error messages.
 * @throws ConfigError naming the file and each bad key path.
 */
export function parseRecipe(text: string, file: string): Recipe {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`Invalid recipe ${file}: not valid YAML: ${(error as Error).message}`, { file }, { cause: error });
  }
  const result = RecipeSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`Invalid recipe ${file}:\n${formatZodIssues(result.error.issues)}`, { file, issues: result.error.issues });
  return result.data;
}

/**
 * Reads and validates a recipe file; `overrides.scale` (from `--scale`) replaces the recipe's scale
 * before hashing, so the manifest records the scale actually used.
 * @throws ConfigError when the file is missing, not YAML, or does not match the schema; or when a
 *   scale other than 1 is given to a recipe whose every budget is "all" (it would change nothing).
 */
export async function loadRecipe(file: string, overrides: { scale?: number } = {}): Promise<LoadedRecipe> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read recipe ${file}: ${(error as Error).message}`, { file }, { cause: error });
  }
  const recipe = parseRecipe(text, file);
  if (overrides.scale !== undefined) recipe.scale = overrides.scale;
  if (recipe.scale !== 1 && recipeCells(recipe).every((c) => c.plannedTokens === 'all')) {
    const given = overrides.scale !== undefined ? `--scale ${overrides.scale}` : `scale: ${recipe.scale}`;
    throw new ConfigError(
      `Recipe ${file}: ${given} changes nothing, because every budget is "all"; give the sources numeric budgetTokens (or bucket budgets) to scale, or use maxFiles to sample the input`,
      { file, scale: recipe.scale },
    );
  }
  return {
    recipe: deepFreeze(recipe),
    baseDir: path.dirname(path.resolve(file)),
    file,
    hash: stableHash(manifestRecipe(recipe)),
  };
}
