/**
 * `node --import tsx bench/planRss.ts N`: the plan stage as src/run/stages.ts `runPlan` runs it
 * (src/plan/reduce.ts `planFromCensus`, then each shard's rows file text in turn, then the
 * manifest's text) on a synthetic census of N in-cell documents in 100 units: a long source (two
 * buckets, 8,193–100,000 and 100,001–200,000 tokens) and a short one (2–8,192), lengths drawn
 * from a seeded log-uniform law, ids like `long/12/345678`, budgets two thirds of what each cell
 * holds (the oversampled census of issue 9), rows of 131,072 tokens.
 *
 * Each unit's document table is encoded as the census units write it (`<unit>.docs.arrow`,
 * src/census/docTable.ts, order keys included) and decoded from those bytes, as the plan reads
 * the files; the encoding (the census units' work, done in parallel in a build) is timed apart.
 * Prints one JSON line: `{ documents, baselineMiB, tablesMiB, peakMiB, bytesPerDoc,
 * tablesSeconds, seconds, rows, shards, rowsFileBytes, manifestBytes }`. RSS figures are
 * `process.resourceUsage().maxRSS`; the baseline is taken before the tables are made, so the
 * tables the plan reads count in its memory; `bytesPerDoc` = (peak − baseline) / N; `seconds` is
 * the plan alone (reduce, rows files and manifest text).
 */
import { parseRecipe } from '../src/config/load.ts';
import { emptyCounts, type DocTable } from '../src/census/store.ts';
import { decodeDocTable, encodeDocTable } from '../src/census/docTable.ts';
import { derivedKey, SplitMix64 } from '../src/core/rng.ts';
import { planFromCensus, type UnitCensus } from '../src/plan/reduce.ts';
import { stableStringify } from '../src/core/stableJson.ts';

const n = Number(process.argv[2] ?? 10_000_000);
const UNITS = 100;
const SEED = 1;
const rng = new SplitMix64(derivedKey(1, 'plan-bench'));
const logUniform = (min: number, max: number) => Math.round(Math.exp(Math.log(min) + (Math.log(max) - Math.log(min)) * (rng.nextBelow(1_000_000) / 1_000_000)));
const peakMiB = () => process.resourceUsage().maxRSS / 1024;
const baselineMiB = peakMiB();
const tablesStart = process.hrtime.bigint();
const units: UnitCensus[] = [];
const sums = { long: [0, 0], short: [0] };
for (let u = 0; u < UNITS; u++) {
  const source = u % 2 === 0 ? 'long' : 'short';
  const counts = emptyCounts(source, source === 'long' ? 2 : 1);
  const docs: DocTable = { cell: [], lengthTokens: [], id: [], idWhere: [] };
  const perUnit = Math.floor(n / UNITS) + (u < n % UNITS ? 1 : 0);
  for (let i = 0; i < perUnit; i++) {
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
  const file = `u${String(u).padStart(5, '0')}.docs.arrow`;
  units.push({ unit: u, source, counts, docs: decodeDocTable(encodeDocTable(docs, SEED, source), file, { source, seed: SEED }) });
}
const tablesSeconds = Number(process.hrtime.bigint() - tablesStart) / 1e9;
const tablesMiB = peakMiB();
const budget = (t: number) => Math.floor((2 * t) / 3);
const recipe = parseRecipe(
  `name: plan-bench
seed: ${SEED}
originalWindowTokens: 8192
rowTokens: 131072
output: { worldSize: 64, globalBatchRows: 64 }
sources:
  - { name: long, format: jsonl, paths: [x], window: long, lengthTokens: { min: 8193, max: 200000 }, buckets: [{ min: 8193, max: 100000, budgetTokens: ${budget(sums.long[0])} }, { min: 100001, max: 200000, budgetTokens: ${budget(sums.long[1])} }] }
  - { name: short, format: jsonl, paths: [x], window: short, budgetTokens: ${budget(sums.short[0])}, lengthTokens: { min: 2, max: 8192 } }
`,
  'plan-bench.yaml',
);
const tokenizer = {
  name: 'llama3',
  vocabSize: 128256,
  bosId: 128000,
  eosId: 128001,
  padId: 128004,
  vocabularySource: 'bench',
  vocabularySha256: '0'.repeat(64),
};
const start = process.hrtime.bigint();
const plan = planFromCensus(
  { recipe, baseDir: '.', file: 'plan-bench.yaml', hash: '0'.repeat(64) },
  tokenizer,
  units,
  [],
  new Map([
    ['long', UNITS / 2],
    ['short', UNITS / 2],
  ]),
);
// What runPlan writes: each shard's rows file, one shard at a time, then the manifest.
let rowsFileBytes = 0;
for (const shard of plan.shards) rowsFileBytes += Buffer.byteLength(plan.shardJson(shard.index));
const manifestBytes = Buffer.byteLength(stableStringify(plan.manifest));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const peak = peakMiB();
console.log(
  JSON.stringify({
    documents: n,
    baselineMiB,
    tablesMiB,
    peakMiB: peak,
    bytesPerDoc: Math.round(((peak - baselineMiB) * 1024 * 1024) / n),
    tablesSeconds,
    seconds,
    rows: plan.manifest.rows.total,
    shards: plan.shards.length,
    rowsFileBytes,
    manifestBytes,
  }),
);
