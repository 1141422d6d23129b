import { describe, expect, it } from 'vitest';
import { parseRecipe } from '../../src/config/load.ts';
import { emptyCounts, type DocTable } from '../../src/census/store.ts';
import { decodeDocTable, encodeDocTable } from '../../src/census/docTable.ts';
import { SplitMix64 } from '../../src/core/rng.ts';
import { stableHash } from '../../src/core/stableJson.ts';
import { planFromCensus, type UnitCensus } from '../../src/plan/reduce.ts';

const SEED = 5;

/** A census of 4 units: a long source (split documents) and a short one used twice, with a duplicate id. */
function census(): { units: UnitCensus[]; tokens: Record<string, number> } {
  const rng = new SplitMix64(11n);
  const tokens: Record<string, number> = { long: 0, short: 0 };
  const units = [0, 1, 2, 3].map((u): UnitCensus => {
    const source = u % 2 === 0 ? 'long' : 'short';
    const counts = emptyCounts(source, 1);
    const docs: DocTable = { cell: [], lengthTokens: [], id: [], idWhere: [] };
    for (let i = 0; i < 60; i++) {
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
  return { units, tokens };
}

describe('planned shards made from the columnar plan', () => {
  it('rows files equal JSON.stringify of the shard objects, and the build id hashes the canonical JSON of the manifest and those objects', () => {
    const { units, tokens } = census();
    const recipe = parseRecipe(
      `name: shard-text
seed: ${SEED}
originalWindowTokens: 256
rowTokens: 1024
output: { worldSize: 2, globalBatchRows: 4, targetShardBytes: 20000 }
sources:
  - { name: long, format: jsonl, paths: [x], window: long, budgetTokens: ${Math.floor(tokens.long / 2)}, lengthTokens: { min: 257, max: 2000 } }
  - { name: short, format: jsonl, paths: [x], window: short, budgetTokens: ${Math.floor(tokens.short * 1.5)}, maxRepetition: 2, lengthTokens: { min: 2, max: 256 } }
`,
      'shard-text.yaml',
    );
    const tokenizer = { name: 't', vocabSize: 10, bosId: 1, eosId: 2, padId: 0, vocabularySource: 'test', vocabularySha256: '0'.repeat(64) };
    const plan = planFromCensus(
      { recipe, baseDir: '.', file: 'shard-text.yaml', hash: '0'.repeat(64) },
      tokenizer,
      units,
      [],
      new Map([
        ['long', 2],
        ['short', 2],
      ]),
    );
    expect(plan.shards.length).toBeGreaterThan(2);
    const objects = plan.shards.map((s) => plan.shard(s.index));
    const pieces = objects.flatMap((s) => s.rows.flatMap((r) => r.pieces));
    // The plan exercises split documents, repeats and the renamed duplicate id.
    expect(pieces.some((p) => p.parts > 1)).toBe(true);
    expect(pieces.some((p) => p.repeat > 0)).toBe(true);
    // Every short document is used (1.5 times the source's tokens): the duplicate too, renamed.
    expect(new Set(pieces.filter((p) => p.source === 'short' && p.docId.startsWith('dup')).map((p) => p.docId))).toEqual(
      new Set(['dup "é"', 'dup "é"@f3.jsonl:8']),
    );
    plan.shards.forEach((s, i) => {
      expect(s.file).toBe(`shard-${String(i).padStart(5, '0')}-${plan.buildId}.arrow`);
      expect(objects[i].file).toBe(s.file);
      expect(plan.shardJson(i)).toBe(JSON.stringify(objects[i]));
    });
    expect(plan.buildId).toBe(stableHash({ manifest: plan.manifest, shards: objects.map((s) => ({ ...s, file: '' })) }).slice(0, 8));
  });
});
