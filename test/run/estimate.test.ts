/**
 * `plan --estimate`: the yield of a seeded sample of units, and the projection of what the build
 * reads, worked out independently from the sample's own documents.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/config/load.ts';
import { readOrder } from '../../src/run/earlyStop.ts';
import { estimateRecipe } from '../../src/run/estimate.ts';
import { createRunRecord } from '../../src/run/runRecord.ts';
import { createTokenizerFromSpec } from '../../src/tokenize/registry.ts';
import { llama3Spec, removeTempDirs, tempDir, writeWordFiles } from '../helpers/build.ts';

afterAll(removeTempDirs);

describe('plan --estimate', () => {
  it('projects units, bytes and tokens from the first units of the seeded order', async () => {
    const dir = await tempDir();
    const texts = await writeWordFiles(dir, 12);
    await writeFile(
      path.join(dir, 'r.yaml'),
      "name: est\noriginalWindowTokens: 256\nrowTokens: 1024\noutput: { worldSize: 1, globalBatchRows: 1 }\nsources:\n  - { name: web, format: jsonl, paths: ['part-*.jsonl'], window: short, budgetTokens: 3000, oversample: 2, lengthTokens: { min: 2, max: 256 } }\n",
    );
    const loaded = await loadRecipe(path.join(dir, 'r.yaml'));
    const spec = await llama3Spec();
    const estimate = await estimateRecipe(loaded, 1, 3, spec);
    // Independently: the first 3 files of the seeded order, tokenized here.
    const run = await createRunRecord(loaded, spec.identity, [], path.join(dir, 'o'), path.join(dir, 'w'));
    const sample = readOrder(run, 'web')
      .slice(0, 3)
      .map((u) => run.census[u].inputs[0]);
    const tokenizer = createTokenizerFromSpec(spec);
    let tokens = 0;
    let bytes = 0;
    for (const f of sample) {
      for (const text of texts[f]) tokens += (await tokenizer.encodeDocument(text)).length;
      bytes += run.inputs[f].sizeBytes;
    }
    tokenizer.free();
    const web = estimate.sources[0];
    expect(web).toMatchObject({ source: 'web', units: 12, sampledUnits: 3, sampledBytes: bytes, note: null });
    const [cell] = web.cells;
    expect(cell.sampleTokens).toBe(tokens);
    expect(cell.tokensPerUnit).toBe(tokens / 3);
    expect(cell.tokensPerGB).toBeCloseTo((tokens / bytes) * 1e9, 6);
    expect(cell.unitsNeeded).toBe(Math.ceil((2 * 3000) / (tokens / 3)));
    expect(cell.projectedTokens).toBe((tokens / 3) * 12);
    expect(cell.enough).toBe(true);
    expect(web.unitsToRead).toBe(cell.unitsNeeded);
    const datasetBytes = run.inputs.reduce((s, i) => s + i.sizeBytes, 0);
    expect(web.bytesToRead).toBeCloseTo((datasetBytes * web.unitsToRead) / 12, 6);
    expect(web.documentsToTokenize).toBeCloseTo((60 / bytes) * web.bytesToRead, 6);
    expect(web.tokenStoreBytes).toBeCloseTo(((4 * tokens) / bytes) * web.bytesToRead, 6);
    expect(estimate.totals.bytesToRead).toBe(web.bytesToRead);
    // A budget the dataset cannot hold is said so.
    const big = await estimateRecipe({ ...loaded, recipe: { ...loaded.recipe, scale: 100 } }, 1, 3, spec);
    expect(big.sources[0].cells[0].enough).toBe(false);
    expect(big.sources[0].unitsToRead).toBe(12);
  });
});
