/**
 * The recipe schema: every option of a build, its unit, bounds and default. This is the only
 * place defaults live. Unknown keys are rejected (strict objects) with their path.
 *
 * Length intervals are closed: a document is in range when
 * `lengthTokens.min <= lengthTokens <= lengthTokens.max`, where `lengthTokens` counts the
 * document's tokens **including the BOS and EOS ids** the tokenizer stage adds. Budgets count
 * the same tokens. A source's budget is split over its length buckets by share (Fu et al. 2024,
 * arXiv 2402.10171: per-source upsampling of long documents; LongRoPE2 §4.1 and Table 1).
 */
import { z } from 'zod';

/** Supported tokenizers. `llama3`: LLaMA-3 BPE, vocab 128,256, BOS 128000, EOS 128001. */
export const TOKENIZERS = ['llama3', 'phi3'] as const;

/** Reader formats. `jsonl` reads `.jsonl`/`.json`, `.gz` and `.zst`; `text` is one document per file. */
export const FORMATS = ['jsonl', 'parquet', 'text'] as const;

/** Dataset adapters (src/read/datasets/): each knows its dataset's layout, text field and document ids. */
export const DATASETS = ['redpajama-v1', 'redpajama-v2', 'starcoder', 'fineweb-edu', 'text-files'] as const;

/** A filter on a RedPajama-v2 quality signal: keep documents with `min <= value <= max`. */
export const QualityFilterSchema = z.strictObject({
  signal: z.string().min(1).describe('Quality signal name, e.g. rps_doc_word_count or ccnet_perplexity.'),
  min: z.number().optional().describe('Smallest value kept, inclusive.'),
  max: z.number().optional().describe('Largest value kept, inclusive.'),
});

const positiveInt = z.number().int().positive();

/** A length bucket of a source: documents with `min <= lengthTokens <= max` (tokens, BOS/EOS included). */
export const BucketSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
    .optional()
    .describe('Bucket name in manifests; default "<min>-<max>".'),
  min: positiveInt.describe('Smallest document length in the bucket, tokens, inclusive.'),
  max: positiveInt.describe('Largest document length in the bucket, tokens, inclusive.'),
  share: z.number().positive().optional().describe("This bucket's share of the source's budget (shares are relative: 3 and 4 give 3/7 and 4/7)."),
  budgetTokens: z
    .union([positiveInt, z.literal('all')])
    .optional()
    .describe('Tokens to select from this bucket, or "all" (instead of a share).'),
});

/** One source of documents. */
export const SourceSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
    .describe('Unique source name; used in manifests and seeds.'),
  format: z.enum(FORMATS).optional().describe('Reader: jsonl (plain, .gz, .zst), parquet, or text (one document per file). Give format or dataset.'),
  dataset: z
    .enum(DATASETS)
    .optional()
    .describe('Dataset adapter, which reads the dataset as published (layout, text field, document ids). Give format or dataset.'),
  paths: z
    .array(z.string().min(1))
    .min(1)
    .describe(
      'Files or globs relative to the recipe file, hf://datasets/<owner>/<name>[@<revision>]/<glob> on the Hugging Face hub, https:// URLs, or urls:<list> (a local or hf:// text file of URLs). Matches are sorted; a pattern matching nothing is an error.',
    ),
  maxFiles: positiveInt
    .optional()
    .describe('Read only the first N files in sorted order (local, then hub, then URLs): a deterministic sample of a large dataset.'),
  prefilter: z
    .boolean()
    .default(true)
    .describe(
      "Skip tokenizing a document whose UTF-8 length proves it cannot reach the source's smallest bucket (the tokenizer's proven bound: LLaMA-3 bytes + 2 tokens); it is counted as prefiltered. Default true; false tokenizes every document (for measurements).",
    ),
  oversample: z
    .number()
    .min(1)
    .default(1.5)
    .describe(
      'Early stop: a source whose budgets are all numbers reads its files in a seeded order and stops once every cell holds at least oversample x its planned tokens; the build uses exactly the shortest such prefix of that order, whatever was read past it. Default 1.5; at least 1. A source with a budget of "all" (or StarCoder repositories) reads every file.',
    ),
  textField: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Record field holding the document text (jsonl, parquet). Default: the dataset's (raw_content for redpajama-v2, content for starcoder), else text.",
    ),
  qualityFilters: z
    .array(QualityFilterSchema)
    .min(1)
    .optional()
    .describe('redpajama-v2 only: filters on the quality signals file beside each documents file, streamed side by side.'),
  repositories: z
    .strictObject({
      separator: z.string().default('\n').describe('Text put between two files of a repository.'),
      maxChars: positiveInt
        .optional()
        .describe(
          'A repository document ends before the file that would take it past this many characters (the next file starts a new part). Default: 4 x lengthTokens.max.',
        ),
      partitionBytes: positiveInt
        .default(64 * 1024 * 1024)
        .describe(
          'Memory bound of the grouping, bytes: files are spilled to disk in hash partitions of about this size, then grouped one partition at a time.',
        ),
    })
    .optional()
    .describe("starcoder only: concatenate each repository's files (by max_stars_repo_name, in path order) into documents."),
  window: z.enum(['short', 'long']).describe('Window class: short rows hold pieces <= original window; long rows hold at least one longer piece.'),
  budgetTokens: z
    .union([positiveInt, z.literal('all')], { error: 'expected a positive whole number of tokens or "all"' })
    .optional()
    .describe(
      'Tokens (BOS/EOS included) to select from this source, or "all"; split over buckets by share. Omit when every bucket states its own budgetTokens.',
    ),
  lengthTokens: z
    .strictObject({
      min: positiveInt.describe('Smallest document length kept, tokens, inclusive (BOS/EOS included; minimum 2).'),
      max: positiveInt.describe('Largest document length kept, tokens, inclusive (BOS/EOS included).'),
    })
    .describe('Closed range of document lengths kept; others are dropped as "length_filter". Buckets, if any, must lie inside it.'),
  buckets: z
    .array(BucketSchema)
    .min(1)
    .optional()
    .describe(
      'Length buckets (disjoint, inside lengthTokens), each with a share or a budget. Default: one bucket = lengthTokens with the whole budget. In-range documents outside every bucket are dropped as "length_filter".',
    ),
  maxRepetition: z
    .number()
    .min(1)
    .default(1)
    .describe(
      'Largest number of times a document may be used (default 1: no repetition). Above 1, a budget larger than what is available is met by taking documents again in a new seeded order.',
    ),
});

/** Packing options. */
export const PackingSchema = z.strictObject({
  bufferTokens: positiveInt
    .optional()
    .describe('Tokens of pieces packed together by best-fit decreasing before rows are closed (bounded memory). Default 64 x rowTokens; at least rowTokens.'),
  longDocPolicy: z
    .enum(['split', 'truncate'])
    .default('split')
    .describe(
      'Long-class documents longer than rowTokens: split into row-length pieces (positions restart at 0 in each) or truncate (the tail is dropped, counted as "truncated").',
    ),
  shortDocPolicy: z
    .enum(['split', 'truncate'])
    .default('split')
    .describe(
      'Short-class documents longer than originalWindowTokens (possible when a short range exceeds the window): split at the window, or truncate there.',
    ),
  longRowAttention: z
    .enum(['document', 'full'])
    .default('document')
    .describe(
      "document: position ids restart at 0 for each piece (document mask). full: one continuous position range over the row's pieces, doc_lens has one entry (LongRoPE2 Fig. 5(b)).",
    ),
  longRowFiller: z
    .string()
    .optional()
    .describe('Name of a short-class source whose selected documents first fill the free space of long rows; the rest of it is packed into short rows.'),
  allowCopiesInRow: z
    .boolean()
    .optional()
    .describe(
      'Copies of a document are its uses under maxRepetition > 1 (same source and document id, different use). false (the default when absent): two copies never share a row, filler included, so no row lets the model read one copy while it predicts the other (under longRowAttention: full it would; under document attention a row of copies is still wasted). true: the packer ignores copies. Pieces of one use of a split document may share a row either way.',
    ),
  repeatSpacingRows: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe(
      'Rows holding different copies of a document are more than this many rows apart in the training order (global row_id), so that they are not read in the same or nearby steps (default 0 when absent: only the same row is ruled out). globalBatchRows - 1 keeps copies out of the same global batch. Split pieces of one use do not count. A build where the rows cannot be ordered so fails, naming the document.',
    ),
});

/** Output options. */
export const OutputSchema = z.strictObject({
  dir: z.string().min(1).optional().describe('Output directory, relative to the working directory; --out overrides it. Default out/<name>.'),
  worldSize: positiveInt
    .default(64)
    .describe('Data-parallel ranks that read the shards (LongRoPE2: 64 GPUs). The shard count is a multiple of it and every rank gets the same rows.'),
  globalBatchRows: positiveInt.default(64).describe('Rows per global batch (one training step over all ranks; LongRoPE2: 64). A multiple of worldSize.'),
  targetShardBytes: positiveInt
    .max(2 ** 31)
    .default(128 * 1024 * 1024)
    .describe(
      'Target shard size, bytes: rows per shard = floor(target / (8 x rowTokens + 1024)) (default 128 MiB: 127 rows of 131,072 tokens; large enough that per-file costs (open, hash, object-store request) vanish, small enough that each of 64 ranks holds one shard in memory while reading, and far under the 2 GiB limit, which is never passed).',
    ),
  rowsPerBatch: positiveInt.default(8).describe('Rows per Arrow record batch inside a shard (lowered if rows x rowTokens would pass 2^31 - 1 values).'),
  lastBatchPolicy: z
    .enum(['drop', 'fill'])
    .default('drop')
    .describe(
      'Rows that do not fill the last global batch: drop them (counted as "last_batch" per cell), or fill: raise the numeric budgets by the smallest amount (shared in proportion to the plans, reported per cell as raisedTokens) that packs whole global batches; when none does, drop as under drop.',
    ),
});

/** A whole recipe, before cross-field rules. */
export const RecipeSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
        error: 'expected a name of letters, digits, ".", "_" and "-" that starts with a letter or digit (it names files: out/<name>, the Megatron export)',
      })
      .describe('Recipe name, shown in summaries and the manifest; names the default output directory out/<name> and the Megatron export.'),
    seed: z.number().int().nonnegative().default(9176).describe('Seed for document order and row order. Default 9176.'),
    tokenizer: z.enum(TOKENIZERS).default('llama3'),
    originalWindowTokens: positiveInt.describe("The model's original context window, tokens (LLaMA3-8B: 8,192)."),
    rowTokens: positiveInt.max(16_777_216).describe('Length of every packed row, tokens (LongRoPE2: 131,072). At most 16,777,216 (2^24).'),
    onBadRecord: z
      .enum(['fail', 'skip'])
      .default('fail')
      .describe('fail: stop at the first bad record, naming file and line/row. skip: skip it and count it by reason.'),
    onBadFile: z
      .enum(['fail', 'skip'])
      .optional()
      .describe(
        'An input file that breaks part-way (truncated or corrupt gzip/zstd, a Parquet file whose footer or pages do not decode; the readers throw CorruptInputError with the file, the compressed byte offset and the records read before the break). fail (the default when absent): stop the build, naming the file and the offset. skip: leave the file out, count it, and list it in the manifest with its offset and the records read before the break (RedPajama-v2 has tens of thousands of files, some broken). Unsupported compressions and missing files always fail.',
      ),
    scale: z
      .number()
      .positive()
      .default(1)
      .describe(
        'Multiplies every numeric token budget (rounded to whole tokens, at least 1), so a full-size recipe can run on a sample. --scale overrides it.',
      ),
    packing: PackingSchema.default({ longDocPolicy: 'split', shortDocPolicy: 'split', longRowAttention: 'document' }),
    output: OutputSchema.default({ worldSize: 64, globalBatchRows: 64, targetShardBytes: 128 * 1024 * 1024, rowsPerBatch: 8, lastBatchPolicy: 'drop' }),
    sources: z.array(SourceSchema).min(1),
  })
  .superRefine((recipe, ctx) => {
    if (recipe.output.globalBatchRows % recipe.output.worldSize !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['output', 'globalBatchRows'],
        message: `globalBatchRows (${recipe.output.globalBatchRows}) must be a multiple of worldSize (${recipe.output.worldSize})`,
      });
    }
    const filler = recipe.packing.longRowFiller;
    if (filler !== undefined) {
      const source = recipe.sources.find((s) => s.name === filler);
      if (!source) ctx.addIssue({ code: 'custom', path: ['packing', 'longRowFiller'], message: `no source named "${filler}"` });
      else if (source.window !== 'short')
        ctx.addIssue({ code: 'custom', path: ['packing', 'longRowFiller'], message: `filler source "${filler}" must be a short-window source` });
    }
    if (recipe.packing.bufferTokens !== undefined && recipe.packing.bufferTokens < recipe.rowTokens) {
      ctx.addIssue({
        code: 'custom',
        path: ['packing', 'bufferTokens'],
        message: `bufferTokens (${recipe.packing.bufferTokens}) must be >= rowTokens (${recipe.rowTokens})`,
      });
    }
    if (recipe.rowTokens < recipe.originalWindowTokens) {
      ctx.addIssue({
        code: 'custom',
        path: ['rowTokens'],
        message: `rowTokens (${recipe.rowTokens}) must be >= originalWindowTokens (${recipe.originalWindowTokens})`,
      });
    }
    const seen = new Set<string>();
    recipe.sources.forEach((source, i) => {
      if (seen.has(source.name)) ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name "${source.name}"` });
      seen.add(source.name);
      const at = (...rest: (string | number)[]) => ['sources', i, ...rest];
      if ((source.format === undefined) === (source.dataset === undefined))
        ctx.addIssue({ code: 'custom', path: at('format'), message: 'give exactly one of format and dataset' });
      if (source.qualityFilters && source.dataset !== 'redpajama-v2')
        ctx.addIssue({ code: 'custom', path: at('qualityFilters'), message: 'qualityFilters needs dataset: redpajama-v2' });
      if (source.repositories && source.dataset !== 'starcoder')
        ctx.addIssue({ code: 'custom', path: at('repositories'), message: 'repositories needs dataset: starcoder' });
      const { min, max } = source.lengthTokens;
      if (min < 2) ctx.addIssue({ code: 'custom', path: at('lengthTokens', 'min'), message: 'min must be >= 2 (BOS and EOS are counted)' });
      if (min > max) ctx.addIssue({ code: 'custom', path: at('lengthTokens'), message: `min (${min}) must be <= max (${max})` });
      if (source.window === 'long' && min <= recipe.originalWindowTokens) {
        ctx.addIssue({
          code: 'custom',
          path: at('lengthTokens', 'min'),
          message: `a long source's min (${min}) must be > originalWindowTokens (${recipe.originalWindowTokens}), so each document needs the long window`,
        });
      }
      const buckets = source.buckets ?? [];
      const shares = buckets.filter((b) => b.share !== undefined).length;
      const own = buckets.filter((b) => b.budgetTokens !== undefined).length;
      if (shares && own) ctx.addIssue({ code: 'custom', path: at('buckets'), message: 'give every bucket a share, or every bucket a budgetTokens, not a mix' });
      if (shares && shares !== buckets.length)
        ctx.addIssue({ code: 'custom', path: at('buckets'), message: 'when one bucket has a share, every bucket needs one' });
      if (own && own !== buckets.length)
        ctx.addIssue({ code: 'custom', path: at('buckets'), message: 'when one bucket has budgetTokens, every bucket needs it' });
      if (own && source.budgetTokens !== undefined)
        ctx.addIssue({ code: 'custom', path: at('budgetTokens'), message: 'remove budgetTokens: every bucket states its own' });
      if (!own && source.budgetTokens === undefined)
        ctx.addIssue({
          code: 'custom',
          path: at('budgetTokens'),
          message: 'budgetTokens is required (a number of tokens or "all") unless every bucket has its own',
        });
      if (buckets.length > 1 && !shares && !own)
        ctx.addIssue({ code: 'custom', path: at('buckets'), message: 'with several buckets, give each a share or a budgetTokens' });
      const sorted = buckets.map((b, j) => ({ ...b, j })).sort((a, b) => a.min - b.min);
      sorted.forEach((b, k) => {
        if (b.min > b.max) ctx.addIssue({ code: 'custom', path: at('buckets', b.j), message: `min (${b.min}) must be <= max (${b.max})` });
        if (b.min < min || b.max > max)
          ctx.addIssue({ code: 'custom', path: at('buckets', b.j), message: `bucket ${b.min}..${b.max} must lie inside lengthTokens ${min}..${max}` });
        if (k > 0 && b.min <= sorted[k - 1].max)
          ctx.addIssue({
            code: 'custom',
            path: at('buckets', b.j),
            message: `bucket ${b.min}..${b.max} overlaps bucket ${sorted[k - 1].min}..${sorted[k - 1].max}`,
          });
      });
      const names = buckets.map((b) => b.name ?? `${b.min}-${b.max}`);
      if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: at('buckets'), message: 'bucket names must be unique' });
    });
  });

/** A parsed recipe with every default filled in. */
export type Recipe = z.output<typeof RecipeSchema>;
/** Parsed packing options. */
export type PackingConfig = z.output<typeof PackingSchema>;
/** One parsed source. */
export type SourceConfig = z.output<typeof SourceSchema>;
