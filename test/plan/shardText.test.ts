import { describe, expect, it } from 'vitest';
import { stableHash } from '../../src/core/stableJson.ts';
import { planFromCensus } from '../../src/plan/reduce.ts';
import { smallPlanInputs } from '../helpers/planCensus.ts';

describe('planned shards made from the columnar plan', () => {
  it('rows files equal JSON.stringify of the shard objects, and the build id hashes the canonical JSON of the manifest and those objects', () => {
    const { loaded, tokenizer, units, files } = smallPlanInputs();
    const plan = planFromCensus(loaded, tokenizer, units, [], files);
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
