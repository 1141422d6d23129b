import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { verifyBuild } from '../../src/verify/verify.ts';
import { buildInTemp, removeTempDirs } from '../helpers/build.ts';
import { PIPELINES, skipWithoutSharedSamples } from '../helpers/sharedSamples.ts';

afterAll(removeTempDirs);

// The real samples of ../shared/samples (RedPajama-v1 arxiv JSONL and common_crawl .zst, CCNet
// json.gz, Fineweb-Edu-schema parquet, two Gutenberg books): 72 documents, 766,051 tokens with
// BOS/EOS. (The parity test counts 815,479 ordinary tokens over 102 documents, which also include
// the uncompressed copy of the common_crawl file and the snappy copy of the Fineweb-Edu-schema
// file, both of which these recipes leave out: their documents would be duplicates.)
describe.skipIf(skipWithoutSharedSamples)('builds over the real samples in ../shared/samples', () => {
  it("at the paper's geometry (row 131,072, window 8,192)", async () => {
    const { outDir, manifest } = await buildInTemp(path.join(PIPELINES, 'shared-samples-paper.yaml'));
    // 16 documents cannot reach their long source's 8,193 tokens by their length in bytes alone:
    // never tokenized (766,051 tokens in all minus their 6,760).
    expect(manifest.totals.tokensRead).toBe(759_291);
    expect(manifest.sources.ccnet.prefiltered).toEqual({ documents: 15, bytes: 23_965 });
    expect(manifest.sources['rpv1-arxiv'].prefiltered).toEqual({ documents: 1, bytes: 7_712 });
    expect(manifest.totals.tokensPlaced).toBe(716_976);
    // 42,315 tokenized tokens are in no cell: documents below a source's lengthTokens.min or above its max.
    expect(manifest.totals.tokensDropped).toEqual({ too_short: 26_796, too_long: 15_519, outside_buckets: 0, over_budget: 0, truncated: 0, last_batch: 0 });
    expect(manifest.rows).toMatchObject({ total: 7, short: 1, long: 6, pieces: 49, padTokens: 200_528 });
    // The ~230k-token book is split at 131,072 into two pieces, each in a long row.
    expect(manifest.sources.books.cells[0].splitDocuments).toBe(1);
    expect(await verifyBuild(outDir)).toMatchObject({ shards: 4, rows: 7, tokens: 716_976 });
  });

  it('at a small geometry that makes many rows (row 4,096, window 512)', async () => {
    const { outDir, manifest } = await buildInTemp(path.join(PIPELINES, 'shared-samples-small.yaml'));
    // 3 ccnet documents cannot reach 513 tokens by their bytes: never tokenized (227 tokens).
    expect(manifest.totals.tokensRead).toBe(765_824);
    expect(manifest.sources.ccnet.prefiltered).toEqual({ documents: 3, bytes: 1_038 });
    expect(manifest.schedule).toMatchObject({ worldSize: 4, globalBatchRows: 8, steps: 22 });
    // 176 rows: exactly 22 steps of 8 rows over 4 ranks, so nothing is left over for the last batch.
    expect(manifest.rows).toMatchObject({
      total: 176,
      short: 1,
      long: 175,
      pieces: 203,
      padTokens: 3_566,
      dropped: { rows: 0, tokens: 0, padTokens: 0, policy: 'drop' },
    });
    expect(manifest.totals.tokensPlaced + manifest.totals.tokensDropped.last_batch).toBe(717_330);
    expect(manifest.sources.books.cells[0].splitDocuments).toBe(2);
    expect(manifest.sources['rpv1-arxiv'].cells[0].splitDocuments).toBe(17);
    expect(await verifyBuild(outDir)).toMatchObject({ shards: 4, rows: 176 });
  });
});
