/**
 * `node --import tsx bench/planRss.ts N`: the plan stage (src/plan/reduce.ts `planFromCensus`) on a
 * synthetic census of N in-cell documents in 100 units: a long source (two buckets, 8,193–100,000
 * and 100,001–200,000 tokens) and a short one (2–8,192), lengths drawn from a seeded log-uniform
 * law, budgets two thirds of what each cell holds (the oversampled census of issue 9), rows of
 * 131,072 tokens. Prints one JSON line: `{ baselineMiB, peakMiB, bytesPerDoc, seconds }`
 * (`process.resourceUsage().maxRSS`; baseline before the document tables are made, so the tables
 * the plan reads count in its memory).
 */
import { parseRecipe } from '../src/config/load.ts';
import { emptyCounts } from '../src/census/store.ts';
import { derivedKey, SplitMix64 } from '../src/core/rng.ts';
import { planFromCensus, type UnitCensus } from '../src/plan/reduce.ts';

const n = Number(process.argv[2] ?? 1_000_000);
const rng = new SplitMix64(derivedKey(1, 'plan-bench'));
const logUniform = (min: number, max: number) => Math.round(Math.exp(Math.log(min) + (Math.log(max) - Math.log(min)) * (rng.nextBelow(1_000_000) / 1_000_000)));
const baselineMiB = process.resourceUsage().maxRSS / 1024;
const units: UnitCensus[] = [];
const sums = { long: [0, 0], short: [0] };
for (let u = 0; u < 100; u++) {
  const source = u % 2 === 0 ? 'long' : 'short';
  const counts = emptyCounts(source, source === 'long' ? 2 : 1);
  const docs = { cell: [] as number[], lengthTokens: [] as number[], id: [] as string[], idWhere: [] as (string | null)[] };
  for (let i = 0; i < n / 100; i++) {
    const length = source === 'long' ? logUniform(8193, 200_000) : logUniform(2, 8192);
    const cell = source === 'long' && length > 100_000 ? 1 : 0;
    docs.cell.push(cell);
    docs.lengthTokens.push(length);
    docs.id.push(`${source}/${u}/${i}`);
    docs.idWhere.push(null);
    counts.read.documents++;
    counts.read.tokens += length;
    counts.cells[cell].documents++;
    counts.cells[cell].tokens += length;
    sums[source][cell] += length;
  }
  units.push({ unit: u, source, counts, docs });
}
const budget = (t: number) => Math.floor((2 * t) / 3);
const recipe = parseRecipe(
  `name: plan-bench
originalWindowTokens: 8192
rowTokens: 131072
output: { worldSize: 64, globalBatchRows: 64 }
sources:
  - { name: long, format: jsonl, paths: [x], window: long, lengthTokens: { min: 8193, max: 200000 }, buckets: [{ min: 8193, max: 100000, budgetTokens: ${budget(sums.long[0])} }, { min: 100001, max: 200000, budgetTokens: ${budget(sums.long[1])} }] }
  - { name: short, format: jsonl, paths: [x], window: short, budgetTokens: ${budget(sums.short[0])}, lengthTokens: { min: 2, max: 8192 } }
`,
  'plan-bench.yaml',
);
const start = process.hrtime.bigint();
const tokenizer = {
  name: 'llama3',
  vocabSize: 128256,
  bosId: 128000,
  eosId: 128001,
  padId: 128004,
  vocabularySource: 'bench',
  vocabularySha256: '0'.repeat(64),
};
planFromCensus(
  { recipe, baseDir: '.', file: 'plan-bench.yaml', hash: '0'.repeat(64) },
  tokenizer,
  units,
  [],
  new Map([
    ['long', 50],
    ['short', 50],
  ]),
);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const peakMiB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ baselineMiB, peakMiB, bytesPerDoc: Math.round(((peakMiB - baselineMiB) * 1024 * 1024) / n), seconds }));
