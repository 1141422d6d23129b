/**
 * Shards sized from each row's bytes with its provenance (issue 10 item 9): document ids of
 * 20,000 characters make the provenance, not the tokens, the bulk of a row. 16 documents of 6
 * tokens pack two to a row of 16: 8 rows, 4 per rank, each about 40 KB of ids. The estimate the
 * planner used before (8 · rowTokens + 1,024 = 1,152 bytes a row) put a rank's 4 rows into one
 * shard of about 165 KB against a 100,000-byte target. Now two rows are estimated at about 101,000
 * bytes (they would take about 83,000: the estimate is an upper bound), so each row gets a shard.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/config/load.ts';
import { buildMix } from '../../src/run/build.ts';
import { verifyBuild } from '../../src/verify/verify.ts';
import { llama3Spec, removeTempDirs, tempDir } from '../helpers/build.ts';

afterAll(removeTempDirs);

describe('shard sizes with long document ids', () => {
  it('every shard stays under targetShardBytes, and the build verifies', async () => {
    const dir = await tempDir();
    const records = Array.from({ length: 16 }, (_, i) => JSON.stringify({ text: `document number ${i}`, meta: { id: `${i}-${'x'.repeat(20_000)}` } }));
    await writeFile(path.join(dir, 'long-ids.jsonl'), records.join('\n') + '\n');
    await writeFile(
      path.join(dir, 'recipe.yaml'),
      [
        'name: long-ids',
        'originalWindowTokens: 16',
        'rowTokens: 16',
        'output: { worldSize: 2, globalBatchRows: 2, targetShardBytes: 100000, rowsPerBatch: 1 }',
        'sources:',
        '  - { name: papers, dataset: redpajama-v1, paths: [long-ids.jsonl], window: short, budgetTokens: all, lengthTokens: { min: 2, max: 16 } }',
        '',
      ].join('\n'),
    );
    const { outDir, manifest } = await buildMix({
      loaded: await loadRecipe(path.join(dir, 'recipe.yaml')),
      outDir: await tempDir(),
      workers: 1,
      tokenizerSpec: await llama3Spec(),
    });
    expect(manifest.rows).toMatchObject({ total: 8, pieces: 16, padTokens: 32 });
    expect(manifest.shards.map((s) => [s.rank, s.rows, s.sizeBytes])).toEqual([0, 0, 0, 0, 1, 1, 1, 1].map((rank) => [rank, 1, 43_144]));
    await expect(verifyBuild(outDir)).resolves.toMatchObject({ rows: manifest.rows.total });
  });
});
