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
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { LoadedRecipe } from '../config/load.ts';
import { InputError } from '../core/errors.ts';
import { stableStringify } from '../core/stableJson.ts';
import type { PlanReport } from './plan.ts';

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
export function lengthCensusOf(loaded: LoadedRecipe, report: PlanReport): LengthCensus {
  const { recipe } = loaded;
  return {
    format: FORMAT,
    recipe: recipe.name,
    recipeHash: loaded.hash,
    tokenizer: recipe.tokenizer,
    rowTokens: recipe.rowTokens,
    originalWindowTokens: recipe.originalWindowTokens,
    longRowFiller: recipe.packing.longRowFiller ?? null,
    cells: report.cells.map(({ cell, lengthTokens }) => ({ source: cell.source, bucket: cell.bucket, window: cell.window, min: cell.min, max: cell.max, plannedTokens: cell.plannedTokens, lengthTokens })),
  };
}

/** Writes `census` to `file` atomically (temporary name, then rename). */
export async function writeLengthCensus(file: string, census: LengthCensus): Promise<void> {
  await writeFile(`${file}.tmp`, stableStringify(census));
  await rename(`${file}.tmp`, file);
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
    const issues = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    throw new InputError(`${file}: not a longmix length census (write one with \`pnpm pipeline plan --lengths-out FILE\`):\n${issues}`, { file });
  }
  for (const [i, cell] of result.data.cells.entries()) {
    const bad = cell.lengthTokens.findIndex((n) => n < cell.min || n > cell.max);
    if (bad >= 0) throw new InputError(`${file}: cells.${i}.lengthTokens.${bad}: ${cell.lengthTokens[bad]} is outside the cell's range [${cell.min}, ${cell.max}]`, { file });
  }
  return result.data;
}
