import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { verifyBuild } from '../../src/verify/verify.ts';
import { buildInTemp, removeTempDirs } from '../helpers/build.ts';
import { PIPELINES, skipWithoutSharedSamples } from '../helpers/sharedSamples.ts';

afterAll(removeTempDirs);

// The real samples of ../shared/samples (RedPajama-v1 arxiv JSONL and common_crawl .zst, CCNet
// json.gz, Fineweb-Edu-schema parquet, two Gutenberg books): 92 documents, 800,044 tokens with
// BOS/EOS (the parity test counts 815,479 ordinary tokens over 102 documents, which also include
// the uncompressed copy of the common_crawl file that these recipes leave out).
describe.skipIf(skipWithoutSharedSamples)('builds over the real samples in ../shared/samples', () => {
  it("at the paper's geometry (row 131,072, window 8,192)", async () => {
    const { outDir, manifest } = await buildInTemp(path.join(PIPELINES, 'shared-samples-paper.yaml'));
    expect(manifest.totals.tokensRead).toBe(800_044);
    expect(manifest.totals.tokensPlaced).toBe(735_450);
    expect(manifest.totals.tokensDropped).toEqual({ length_filter: 64_594, over_budget: 0, truncated: 0, last_batch: 0 });
    expect(manifest.rows).toMatchObject({ total: 7, short: 1, long: 6, pieces: 68, padTokens: 182_054 });
    // The ~230k-token book is split at 131,072 into two pieces, each in a long row.
    expect(manifest.sources.books.cells[0].splitDocuments).toBe(1);
    expect(await verifyBuild(outDir)).toMatchObject({ shards: 4, rows: 7, tokens: 735_450 });
  });

  it('at a small geometry that makes many rows (row 4,096, window 512)', async () => {
    const { outDir, manifest } = await buildInTemp(path.join(PIPELINES, 'shared-samples-small.yaml'));
    expect(manifest.totals.tokensRead).toBe(800_044);
    expect(manifest.schedule).toMatchObject({ worldSize: 4, globalBatchRows: 8, steps: 22 });
    // Best-fit over 64-row buffers (the default bufferTokens) closes rows earlier than one global
    // best-fit would (177 rows): bounded memory costs one row here. 178 rows in global batches of
    // 8 keep 176 (22 steps over 4 ranks); the 2 left over are dropped and counted.
    expect(manifest.rows).toMatchObject({ total: 176, short: 2, long: 174, pieces: 212, padTokens: 7_342, dropped: { rows: 2, tokens: 6_043, padTokens: 2_149, policy: 'drop' } });
    expect(manifest.totals.tokensPlaced + manifest.totals.tokensDropped.last_batch).toBe(719_597);
    expect(manifest.sources.books.cells[0].splitDocuments).toBe(2);
    expect(manifest.sources['rpv1-arxiv'].cells[0].splitDocuments).toBe(17);
    expect(await verifyBuild(outDir)).toMatchObject({ shards: 4, rows: 176 });
  });
});
