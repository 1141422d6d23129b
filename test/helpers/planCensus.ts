/**
 * A small synthetic census for tests of the plan (src/plan/reduce.ts `planFromCensus`): 4 units,
 * a long source (documents split at the row length) and a short one used up to twice, each with a
 * duplicate id, as the census units would write their document tables.
 */
import { parseRecipe, type LoadedRecipe } from '../../src/config/load.ts';
import { emptyCounts, type DocTable } from '../../src/census/store.ts';
import { decodeDocTable, encodeDocTable } from '../../src/census/docTable.ts';
import { SplitMix64 } from '../../src/core/rng.ts';
import type { UnitCensus } from '../../src/plan/reduce.ts';
import type { TokenizerIdentity } from '../../src/tokenize/tokenizer.ts';

const SEED = 5;

/** The census (`docsPerUnit` documents in each unit), recipe and tokenizer identity `planFromCensus` takes; `output` is YAML for the recipe's `output`. */
export function smallPlanInputs(
  output = '{ worldSize: 2, globalBatchRows: 4, targetShardBytes: 20000 }',
  docsPerUnit = 60,
): {
  loaded: LoadedRecipe;
  tokenizer: TokenizerIdentity;
  units: UnitCensus[];
  files: Map<string, number>;
} {
  const rng = new SplitMix64(11n);
  const tokens: Record<string, number> = { long: 0, short: 0 };
  const units = [0, 1, 2, 3].map((u): UnitCensus => {
    const source = u % 2 === 0 ? 'long' : 'short';
    const counts = emptyCounts(source, 1);
    const docs: DocTable = { cell: [], lengthTokens: [], id: [], idWhere: [] };
    for (let i = 0; i < docsPerUnit; i++) {
      const length = source === 'long' ? 300 + rng.nextBelow(1500) : 2 + rng.nextBelow(250);
      docs.cell.push(0);
      docs.lengthTokens.push(length);
      docs.id.push(i === 7 ? 'dup "é"' : `${source}/${u}/${i}`);
      docs.idWhere.push(`f${u}.jsonl:${i + 1}`);
      counts.read.documents++;
      counts.read.tokens += length;
      counts.cells[0].documents++;
      counts.cells[0].tokens += length;
      tokens[source] += length;
    }
    return { unit: u, source, counts, docs: decodeDocTable(encodeDocTable(docs, SEED, source), `u${u}`, { source, seed: SEED }) };
  });
  const recipe = parseRecipe(
    `name: small-plan
seed: ${SEED}
originalWindowTokens: 256
rowTokens: 1024
output: ${output}
sources:
  - { name: long, format: jsonl, paths: [x], window: long, budgetTokens: ${Math.floor(tokens.long / 2)}, lengthTokens: { min: 257, max: 2000 } }
  - { name: short, format: jsonl, paths: [x], window: short, budgetTokens: ${Math.floor(tokens.short * 1.5)}, maxRepetition: 2, lengthTokens: { min: 2, max: 256 } }
`,
    'small-plan.yaml',
  );
  return {
    loaded: { recipe, baseDir: '.', file: 'small-plan.yaml', hash: '0'.repeat(64) },
    tokenizer: { name: 't', vocabSize: 10, bosId: 1, eosId: 2, padId: 0, vocabularySource: 'test', vocabularySha256: '0'.repeat(64) },
    units,
    files: new Map([
      ['long', 2],
      ['short', 2],
    ]),
  };
}
