/**
 * The recipe schema: every option of a build, its unit, bounds and default. This is the only
 * place defaults live. Unknown keys are rejected (strict objects) with their path.
 *
 * Length intervals are closed: a document is in range when
 * `lengthTokens.min <= lengthTokens <= lengthTokens.max`, where `lengthTokens` counts the
 * document's tokens **including the BOS and EOS ids** the tokenizer stage adds.
 */
import { z } from 'zod';

/** Supported tokenizers. `llama3`: LLaMA-3 BPE, vocab 128,256, BOS 128000, EOS 128001. */
export const TOKENIZERS = ['llama3'] as const;

/** Reader formats. `jsonl` reads `.jsonl`/`.json`, `.gz` and `.zst`; `text` is one document per file. */
export const FORMATS = ['jsonl', 'parquet', 'text'] as const;

const positiveInt = z.number().int().positive();

/** One source of documents. */
export const SourceSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/).describe('Unique source name; used in manifests and seeds.'),
  format: z.enum(FORMATS).describe('Reader: jsonl (plain, .gz, .zst), parquet, or text (one document per file).'),
  paths: z
    .array(z.string().min(1))
    .min(1)
    .describe('Files or globs, relative to the recipe file. Matches are sorted; a pattern matching nothing is an error.'),
  textField: z.string().min(1).default('text').describe('Record field holding the document text (jsonl, parquet).'),
  window: z.enum(['short', 'long']).describe('Window class: short rows hold pieces <= original window; long rows hold at least one longer piece.'),
  budgetTokens: z
    .union([positiveInt, z.literal('all')])
    .describe('Tokens (BOS/EOS included) to select from this source, or "all". Selection stops at the first document that reaches it.'),
  lengthTokens: z
    .strictObject({
      min: positiveInt.describe('Smallest document length kept, tokens, inclusive (BOS/EOS included; minimum 2).'),
      max: positiveInt.describe('Largest document length kept, tokens, inclusive (BOS/EOS included).'),
    })
    .describe('Closed range of document lengths kept; others are dropped as "length_filter".'),
});

/** Output options. */
export const OutputSchema = z.strictObject({
  dir: z.string().min(1).default('out/sample').describe('Output directory, relative to the working directory; --out overrides it.'),
  rowsPerShard: positiveInt.default(64).describe('Rows per Arrow shard (default 64: 64 MiB of input_ids + position_ids at 131,072 tokens).'),
  rowsPerBatch: positiveInt.default(8).describe('Rows per Arrow record batch inside a shard.'),
});

/** A whole recipe, before cross-field rules. */
export const RecipeSchema = z
  .strictObject({
    name: z.string().min(1).describe('Recipe name, shown in summaries and the manifest.'),
    seed: z.number().int().nonnegative().default(9176).describe('Seed for document order and row order. Default 9176.'),
    tokenizer: z.enum(TOKENIZERS).default('llama3'),
    originalWindowTokens: positiveInt.describe("The model's original context window, tokens (LLaMA3-8B: 8,192)."),
    rowTokens: positiveInt.describe('Length of every packed row, tokens (LongRoPE2: 131,072).'),
    onBadRecord: z.enum(['fail', 'skip']).default('fail').describe('fail: stop at the first bad record, naming file and line/row. skip: skip it and count it by reason.'),
    output: OutputSchema.default({ dir: 'out/sample', rowsPerShard: 64, rowsPerBatch: 8 }),
    sources: z.array(SourceSchema).min(1),
  })
  .superRefine((recipe, ctx) => {
    if (recipe.rowTokens < recipe.originalWindowTokens) {
      ctx.addIssue({ code: 'custom', path: ['rowTokens'], message: `rowTokens (${recipe.rowTokens}) must be >= originalWindowTokens (${recipe.originalWindowTokens})` });
    }
    const seen = new Set<string>();
    recipe.sources.forEach((source, i) => {
      if (seen.has(source.name)) ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name "${source.name}"` });
      seen.add(source.name);
      const { min, max } = source.lengthTokens;
      if (min < 2) ctx.addIssue({ code: 'custom', path: ['sources', i, 'lengthTokens', 'min'], message: 'min must be >= 2 (BOS and EOS are counted)' });
      if (min > max) ctx.addIssue({ code: 'custom', path: ['sources', i, 'lengthTokens'], message: `min (${min}) must be <= max (${max})` });
      if (source.window === 'short' && max > recipe.originalWindowTokens) {
        ctx.addIssue({
          code: 'custom',
          path: ['sources', i, 'lengthTokens', 'max'],
          message: `a short source's max (${max}) must be <= originalWindowTokens (${recipe.originalWindowTokens}), so its documents fit the original window`,
        });
      }
      if (source.window === 'long' && min <= recipe.originalWindowTokens) {
        ctx.addIssue({
          code: 'custom',
          path: ['sources', i, 'lengthTokens', 'min'],
          message: `a long source's min (${min}) must be > originalWindowTokens (${recipe.originalWindowTokens}), so each document needs the long window`,
        });
      }
    });
  });

/** A parsed recipe with every default filled in. */
export type Recipe = z.output<typeof RecipeSchema>;
/** One parsed source. */
export type SourceConfig = z.output<typeof SourceSchema>;
