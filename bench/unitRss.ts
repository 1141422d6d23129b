/**
 * `node --import tsx bench/unitRss.ts RECIPE SOURCE FILE`: runs one census unit (src/census/unit.ts)
 * on FILE as a unit of SOURCE of RECIPE, its tokens discarded, and prints one JSON line:
 * `{ baselineMiB, peakMiB, documents }` (peak RSS of this process, `process.resourceUsage().maxRSS`;
 * baseline once the tokenizer is loaded, before reading). A map unit's memory should be bounded by
 * the unit (the largest document, one Parquet page, stream buffers), not by the corpus.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { sourceCells } from '../src/config/cells.ts';
import { loadRecipe } from '../src/config/load.ts';
import { runCensusUnit } from '../src/census/unit.ts';
import { buildTokenizerSpec, createTokenizerFromSpec } from '../src/tokenize/registry.ts';

const [recipeFile, sourceName, file] = process.argv.slice(2);
const loaded = await loadRecipe(recipeFile);
const source = loaded.recipe.sources.find((s) => s.name === sourceName)!;
const tokenizer = createTokenizerFromSpec(await buildTokenizerSpec(loaded.recipe.tokenizer));
await tokenizer.encodeDocument('warm up');
const relPath = path.relative(loaded.baseDir, file);
const input = { relPath, idPath: path.basename(file), absPath: file, sizeBytes: (await stat(file)).size };
const baselineMiB = process.resourceUsage().maxRSS / 1024;
const sink = { append: async () => undefined, reset: async () => undefined };
const result = await runCensusUnit(
  { recipe: loaded.recipe, source, cells: sourceCells(source, loaded.recipe.scale), files: [input], baseDir: loaded.baseDir },
  tokenizer,
  sink,
);
console.log(JSON.stringify({ baselineMiB, peakMiB: process.resourceUsage().maxRSS / 1024, documents: result.counts.read.documents }));
