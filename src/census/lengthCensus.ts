/**
 * The length census file that `plan --lengths-out FILE` writes and `pnpm bench --lengths FILE`
 * reads: per cell (source × length bucket), the token length of every in-range document, so the
 * packing of a real mix can be measured on its real length distribution without re-reading it.
 *
 * JSON, canonical key order: `{ format: "longmix-length-census/1", recipe, recipeHash, tokenizer,
 * rowTokens, originalWindowTokens, longRowFiller, cells: [{ source, bucket, window, min, max,
 * plannedTokens, lengthTokens: [...] }] }`. Lengths are tokens with BOS/EOS, in census order
 * (input file order, then record order); `plannedTokens` is after `scale` (a number, or "all").
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { formatZodIssues } from '../config/issues.ts';
import type { LoadedRecipe } from '../config/load.ts';
import { writeFileAtomic } from '../core/atomicFile.ts';
import { InputError, PipelineError } from '../core/errors.ts';
import { stableStringify } from '../core/stableJson.ts';
import type { CellSpec } from '../config/cells.ts';

const FORMAT = 'longmix-length-census/1';
const count = z.number().int().nonnegative();

const CensusCellSchema = z.strictObject({
  source: z.string(),
  bucket: z.string(),
  window: z.enum(['short', 'long']),
  min: count,
  max: count,
  plannedTokens: z.union([count, z.literal('all')]),
  lengthTokens: z.array(z.number().int().positive()),
});

const LengthCensusSchema = z.strictObject({
  format: z.literal(FORMAT),
  recipe: z.string(),
  recipeHash: z.string(),
  tokenizer: z.string(),
  rowTokens: z.number().int().positive(),
  originalWindowTokens: z.number().int().positive(),
  longRowFiller: z.string().nullable(),
  cells: z.array(CensusCellSchema).min(1),
});

/** A length census, as written by `plan --lengths-out`. */
export type LengthCensus = z.infer<typeof LengthCensusSchema>;

/** The census of a plan report for `loaded`'s recipe. */
export function lengthCensusOf(loaded: LoadedRecipe, report: { cells: readonly { cell: CellSpec; lengthTokens: number[] }[] }): LengthCensus {
  const { recipe } = loaded;
  return {
    format: FORMAT,
    recipe: recipe.name,
    recipeHash: loaded.hash,
    tokenizer: recipe.tokenizer,
    rowTokens: recipe.rowTokens,
    originalWindowTokens: recipe.originalWindowTokens,
    longRowFiller: recipe.packing.longRowFiller ?? null,
    cells: report.cells.map(({ cell, lengthTokens }) => ({
      source: cell.source,
      bucket: cell.bucket,
      window: cell.window,
      min: cell.min,
      max: cell.max,
      plannedTokens: cell.plannedTokens,
      lengthTokens,
    })),
  };
}

/**
 * Checks, before the census is taken, that `file` can be written: its directory exists and
 * `file` is not a directory.
 * @throws PipelineError naming the file and what is wrong.
 */
export function assertCensusTarget(file: string): void {
  const dir = path.dirname(path.resolve(file));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new PipelineError(`--lengths-out ${file}: directory ${dir} does not exist`, { file });
  if (existsSync(file) && statSync(file).isDirectory()) throw new PipelineError(`--lengths-out ${file}: is a directory; give a file name`, { file });
}

/**
 * Writes `census` to `file` atomically (temporary name, then rename; the temporary is removed on failure).
 * @throws PipelineError naming the file when it cannot be written.
 */
export async function writeLengthCensus(file: string, census: LengthCensus): Promise<void> {
  try {
    await writeFileAtomic(file, stableStringify(census));
  } catch (error) {
    throw new PipelineError(`Cannot write the length census to ${file}: ${(error as Error).message}`, { file }, { cause: error });
  }
}

/**
 * Reads and validates a census file.
 * @throws InputError naming the file: unreadable, not JSON, or not a census (with the key path).
 */
export async function readLengthCensus(file: string): Promise<LengthCensus> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InputError(`${file}: cannot read a length census: ${(error as Error).message}`, { file }, { cause: error });
  }
  const result = LengthCensusSchema.safeParse(raw);
  if (!result.success) {
    throw new InputError(
      `${file}: not a longmix length census (write one with \`pnpm pipeline plan --lengths-out FILE\`):\n${formatZodIssues(result.error.issues)}`,
      { file },
    );
  }
  const census = result.data;
  if (census.originalWindowTokens >= census.rowTokens) {
    throw new InputError(`${file}: originalWindowTokens ${census.originalWindowTokens} must be less than rowTokens ${census.rowTokens}`, { file });
  }
  if (census.cells.every((c) => c.lengthTokens.length === 0)) throw new InputError(`${file}: no cell holds a document length; nothing to pack`, { file });
  for (const [i, cell] of census.cells.entries()) {
    if (cell.min > cell.max) throw new InputError(`${file}: cells.${i}: min ${cell.min} is above max ${cell.max}`, { file });
    const bad = cell.lengthTokens.findIndex((n) => n < cell.min || n > cell.max);
    if (bad >= 0)
      throw new InputError(`${file}: cells.${i}.lengthTokens.${bad}: ${cell.lengthTokens[bad]} is outside the cell's range [${cell.min}, ${cell.max}]`, {
        file,
      });
  }
  return census;
}
